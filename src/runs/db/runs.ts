import { SpecWorkflowRun } from '../../entities/index.js';
import type { RunStatus } from '../../interfaces.js';
import { columnsOf, type Db } from './columns.js';

// The spec_workflow_run row: every read and write of a run's columns.

export type Run = SpecWorkflowRun;

const RUN = columnsOf(SpecWorkflowRun);
/** jsonb columns: written as JSON text. */
const JSON_FIELDS = ['phase', 'stackedOn', 'revision'];
const SELECT = RUN.select();

/** The columns of a run a step may write (its outputs) or the runtime sets (status, failure). */
export type RunFields = Partial<
  Pick<
    Run,
    | 'featureId' | 'tasksPath' | 'phase' | 'currentStep' | 'baseSha' | 'codexTaskId' | 'codexTaskUrl' | 'branch'
    | 'commitSha' | 'pullRequestNumber' | 'pullRequestUrl' | 'failureCode' | 'failureStep' | 'failureMessage'
    | 'failureRemediation' | 'failureResumable' | 'statusMessage' | 'finishedAt' | 'codexEnvironment'
    | 'baseBranch' | 'stackedOn' | 'revision'
  >
>;

/** What a failed run records, and what a resume clears. */
export const NO_FAILURE: RunFields = {
  failureCode: null,
  failureStep: null,
  failureMessage: null,
  failureRemediation: null,
  failureResumable: null,
};

export async function readRun(db: Db, id: string): Promise<Run | null> {
  const { rows } = await db.query<Run>(`SELECT ${SELECT} FROM spec_workflow_run WHERE id = $1`, [id]);
  return rows[0] ?? null;
}

/** The runs with these ids, in the order asked. */
export async function readRuns(db: Db, ids: readonly string[]): Promise<Run[]> {
  if (!ids.length) return [];
  const { rows } = await db.query<Run>(`SELECT ${SELECT} FROM spec_workflow_run WHERE id = ANY($1::uuid[])`, [ids]);
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

/** Locks the run row for the transaction. Every writer locks the run first, so writers never deadlock. */
export async function lockRun(tx: Db, id: string): Promise<Run | null> {
  const { rows } = await tx.query<Run>(`SELECT ${SELECT} FROM spec_workflow_run WHERE id = $1 FOR UPDATE`, [id]);
  return rows[0] ?? null;
}

export async function runByIdempotencyKey(db: Db, key: string): Promise<Run | null> {
  const { rows } = await db.query<Run>(`SELECT ${SELECT} FROM spec_workflow_run WHERE idempotency_key = $1`, [key]);
  return rows[0] ?? null;
}

/** The active run (QUEUED or RUNNING) of a repository and feature, if any. */
export async function activeRunOf(db: Db, repository: string, featureId: string | null): Promise<string | null> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM spec_workflow_run WHERE repository = $1 AND coalesce(feature_id, '') = coalesce($2, '')
       AND status IN ('QUEUED', 'RUNNING') LIMIT 1`,
    [repository, featureId],
  );
  return rows[0]?.id ?? null;
}

export interface NewRun {
  repository: string;
  featureId: string | null;
  baseBranch: string;
  stack: boolean;
  phaseRequest: string | null;
  confirmRedo: boolean;
  notes: string | null;
  credentialSetId: string;
  codexEnvironment: string | null;
  codexBestOfN: number;
  idempotencyKey: string | null;
  sandbox: boolean;
  retryOf: string | null;
  status: RunStatus;
}

export async function insertRun(tx: Db, run: NewRun): Promise<string> {
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO spec_workflow_run (repository, feature_id, base_branch, root_branch, credential_set_id, codex_environment,
       codex_best_of_n, idempotency_key, sandbox, retry_of, status, stack, phase_request, confirm_redo, notes)
     VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`,
    [run.repository, run.featureId, run.baseBranch, run.credentialSetId, run.codexEnvironment, run.codexBestOfN,
      run.idempotencyKey, run.sandbox, run.retryOf, run.status, run.stack, run.phaseRequest, run.confirmRedo, run.notes],
  );
  return rows[0]!.id;
}

/**
 * One UPDATE for one transition of the run: its status (when it changes), the fields, and the version
 * of the event that goes with it (the row lock it takes until commit makes versions gapless). Returns
 * that version. Every caller appends that event in the same transaction.
 */
export async function writeRun(tx: Db, id: string, change: { status?: RunStatus; fields?: RunFields }): Promise<number> {
  const sets = ['version = version + 1', 'updated_at = now()'];
  const values: unknown[] = [id];
  const set = (column: string, value: unknown, cast = '') => {
    values.push(value);
    sets.push(`${column} = $${values.length}${cast}`);
  };
  if (change.status) set('status', change.status, '::run_status');
  for (const [property, value] of Object.entries(change.fields ?? {})) {
    if (value === undefined) continue;
    set(RUN.name(property), JSON_FIELDS.includes(property) && value !== null ? JSON.stringify(value) : value);
  }
  const { rows } = await tx.query<{ version: number }>(`UPDATE spec_workflow_run SET ${sets.join(', ')} WHERE id = $1 RETURNING version`, values);
  return rows[0]!.version;
}

export interface RunFilter {
  status?: RunStatus | null;
  repository?: string | null;
  featureId?: string | null;
}

/** One page of run ids, newest first after the (created_at, id) cursor, and the filter's total. */
export async function pageOfRuns(
  db: Db,
  args: { first: number; after?: { createdAt: Date; id: string } | null; filter?: RunFilter | null },
): Promise<{ ids: string[]; totalCount: number; hasNextPage: boolean }> {
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
  const { rows: counted } = await db.query<{ count: number }>(`SELECT count(*)::int AS count FROM spec_workflow_run ${filtered}`, params);
  const pageParams = [...params];
  const pageWhere = [...where];
  if (args.after) {
    pageParams.push(args.after.createdAt, args.after.id);
    pageWhere.push(`(created_at, id) < ($${pageParams.length - 1}, $${pageParams.length})`);
  }
  pageParams.push(args.first + 1);
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM spec_workflow_run ${pageWhere.length ? `WHERE ${pageWhere.join(' AND ')}` : ''}
     ORDER BY created_at DESC, id DESC LIMIT $${pageParams.length}`,
    pageParams,
  );
  return { ids: rows.slice(0, args.first).map((r) => r.id), totalCount: counted[0]!.count, hasNextPage: rows.length > args.first };
}

