import type { DataSource } from 'typeorm';
import { RunEvent, SpecWorkflowRun, StepState, WorkflowArtifact } from '../entities/index.js';
import type { RunStatus } from '../interfaces.js';

export interface RunFilter {
  status?: RunStatus | null;
  repository?: string | null;
  featureId?: string | null;
}

export interface RunPage {
  runs: SpecWorkflowRun[];
  totalCount: number;
  hasNextPage: boolean;
}

/** Cursors are opaque to clients: the (created_at, id) key of a row, newest first. */
export function encodeCursor(run: Pick<SpecWorkflowRun, 'createdAt' | 'id'>): string {
  return Buffer.from(`${run.createdAt.toISOString()}|${run.id}`).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: Date; id: string } | null {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (!id || Number.isNaN(createdAt.getTime()) || !/^[0-9a-f-]{36}$/.test(id)) return null;
  return { createdAt, id };
}

export function getRun(ds: DataSource, id: string): Promise<SpecWorkflowRun | null> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return Promise.resolve(null);
  return ds.getRepository(SpecWorkflowRun).findOneBy({ id });
}

export async function listRuns(
  ds: DataSource,
  args: { first: number; after?: { createdAt: Date; id: string } | null; filter?: RunFilter | null },
): Promise<RunPage> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (args.filter?.status) add('status = ?', args.filter.status);
  if (args.filter?.repository) add('repository = ?', args.filter.repository);
  if (args.filter?.featureId) add('feature_id = ?', args.filter.featureId);
  const filtered = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const [{ count }] = await ds.query(`SELECT count(*)::int AS count FROM spec_workflow_run ${filtered}`, params);

  const pageParams = [...params];
  const pageWhere = [...where];
  if (args.after) {
    pageParams.push(args.after.createdAt, args.after.id);
    pageWhere.push(`(created_at, id) < ($${pageParams.length - 1}, $${pageParams.length})`);
  }
  pageParams.push(args.first + 1);
  const ids: { id: string }[] = await ds.query(
    `SELECT id FROM spec_workflow_run ${pageWhere.length ? `WHERE ${pageWhere.join(' AND ')}` : ''}
     ORDER BY created_at DESC, id DESC LIMIT $${pageParams.length}`,
    pageParams,
  );
  const page = ids.slice(0, args.first).map((r) => r.id);
  const rows = page.length ? await ds.getRepository(SpecWorkflowRun).findBy(page.map((id) => ({ id }))) : [];
  const byId = new Map(rows.map((r) => [r.id, r]));
  return { runs: page.map((id) => byId.get(id)!).filter(Boolean), totalCount: count, hasNextPage: ids.length > args.first };
}

/** Every step attempt of the given runs, in chain order then attempt order. */
export async function stepsOfRuns(ds: DataSource, runIds: readonly string[]): Promise<StepState[]> {
  return ds
    .getRepository(StepState)
    .createQueryBuilder('s')
    .where('s.run_id = ANY(:ids)', { ids: runIds })
    .orderBy('s.step', 'ASC')
    .addOrderBy('s.attempt', 'ASC')
    .getMany();
}

export async function artifactsOfRuns(ds: DataSource, runIds: readonly string[]): Promise<WorkflowArtifact[]> {
  return ds
    .getRepository(WorkflowArtifact)
    .createQueryBuilder('a')
    .where('a.run_id = ANY(:ids)', { ids: runIds })
    .orderBy('a.created_at', 'ASC')
    .getMany();
}

export async function eventsOfRun(ds: DataSource, runId: string, afterVersion = 0, limit = 10_000): Promise<RunEvent[]> {
  return ds
    .getRepository(RunEvent)
    .createQueryBuilder('e')
    .where('e.run_id = :runId AND e.version > :afterVersion', { runId, afterVersion })
    .orderBy('e.version', 'ASC')
    .limit(limit)
    .getMany();
}

export function findArtifact(ds: DataSource, runId: string, artifactId: string): Promise<WorkflowArtifact | null> {
  const uuid = /^[0-9a-f-]{36}$/i;
  if (!uuid.test(runId) || !uuid.test(artifactId)) return Promise.resolve(null);
  return ds.getRepository(WorkflowArtifact).findOneBy({ id: artifactId, runId });
}
