import { WorkflowArtifact } from '../../entities/index.js';
import type { ArtifactKind, Step } from '../../interfaces.js';
import { columnsOf, type Db } from './columns.js';

// The workflow_artifact rows: what each step attempt stored or pointed at.

export type { WorkflowArtifact };

const SELECT = columnsOf(WorkflowArtifact).select();

/** An artifact to record with a step's outcome: a file in the store, or an outside URL. */
export interface ArtifactInput {
  kind: ArtifactKind;
  /** Path relative to the artifact store, or an http(s) URL. */
  location: string;
  contentType?: string;
  sha256?: string | null;
  size?: number | null;
}

/**
 * Records artifacts of a step attempt. A location recorded before (a growing log) gets its digest and
 * size refreshed instead of a second row.
 */
export async function recordArtifacts(tx: Db, runId: string, step: Step, attempt: number, artifacts: readonly ArtifactInput[]): Promise<void> {
  for (const a of artifacts) {
    const { rowCount } = await tx.query(
      'UPDATE workflow_artifact SET sha256 = $3, size = $4 WHERE run_id = $1 AND location = $2 AND kind = $5',
      [runId, a.location, a.sha256 ?? null, a.size ?? null, a.kind],
    );
    if (rowCount) continue;
    await tx.query(
      `INSERT INTO workflow_artifact (run_id, step, attempt, kind, location, content_type, sha256, size)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [runId, step, attempt, a.kind, a.location, a.contentType ?? null, a.sha256 ?? null, a.size ?? null],
    );
  }
}

export async function artifactsOfRuns(db: Db, runIds: readonly string[]): Promise<WorkflowArtifact[]> {
  if (!runIds.length) return [];
  const { rows } = await db.query<WorkflowArtifact>(`SELECT ${SELECT} FROM workflow_artifact WHERE run_id = ANY($1::uuid[]) ORDER BY created_at, id`, [runIds]);
  return rows;
}

export async function findArtifact(db: Db, runId: string, artifactId: string): Promise<WorkflowArtifact | null> {
  const { rows } = await db.query<WorkflowArtifact>(`SELECT ${SELECT} FROM workflow_artifact WHERE id = $1 AND run_id = $2`, [artifactId, runId]);
  return rows[0] ?? null;
}
