import { WorkflowArtifact } from '../../entities/index.js';
import type { ArtifactKind, Step } from '../../interfaces.js';
import { columnsOf, type Db } from './columns.js';

// The workflow_artifact rows: what each step attempt stored or pointed at.

export type { WorkflowArtifact };

const SELECT = columnsOf(WorkflowArtifact).select();

/** An artifact to record with a step's outcome: contents to store, or an outside URL. */
export interface ArtifactInput {
  kind: ArtifactKind;
  /** `<run id>/<name>` for stored contents, or an http(s) URL. */
  location: string;
  contentType?: string;
  sha256?: string | null;
  size?: number | null;
  /** The contents, stored with the row in the same transaction. */
  content?: Buffer;
  /** Add `content` to what is stored under this location (a growing log) instead of replacing it. */
  append?: boolean;
  /** An appended log stops growing at this size. */
  maxBytes?: number;
}

/** Contents are kept in chunks of this size, so a download streams without holding a large one whole. */
export const CHUNK_BYTES = 256 * 1024;

/**
 * Records artifacts of a step attempt with their contents, in the caller's transaction. Stored contents
 * under a location recorded before replace it (a new row, so a download of the old one never mixes
 * the two); appended lines add a chunk to the existing row and refresh its digest and size.
 */
export async function recordArtifacts(tx: Db, runId: string, step: Step, attempt: number, artifacts: readonly ArtifactInput[]): Promise<void> {
  for (const a of artifacts) {
    if (a.append) {
      const { rows } = await tx.query<{ id: string; size: string | null }>(
        'SELECT id, size FROM workflow_artifact WHERE run_id = $1 AND location = $2 AND kind = $3 AND stored FOR UPDATE',
        [runId, a.location, a.kind],
      );
      const id = rows[0]?.id ?? (await insertRow(tx, runId, step, attempt, a));
      if (Number(rows[0]?.size ?? 0) + a.content!.length <= (a.maxBytes ?? Infinity)) await storeContent(tx, id, a.content!, true);
      continue;
    }
    if (a.content) {
      await tx.query('DELETE FROM workflow_artifact WHERE run_id = $1 AND location = $2 AND kind = $3', [runId, a.location, a.kind]);
      await storeContent(tx, await insertRow(tx, runId, step, attempt, a), a.content, false);
      continue;
    }
    const { rowCount } = await tx.query('UPDATE workflow_artifact SET sha256 = $3, size = $4 WHERE run_id = $1 AND location = $2 AND kind = $5', [
      runId,
      a.location,
      a.sha256 ?? null,
      a.size ?? null,
      a.kind,
    ]);
    if (!rowCount) await insertRow(tx, runId, step, attempt, a);
  }
}

async function insertRow(tx: Db, runId: string, step: Step, attempt: number, a: ArtifactInput): Promise<string> {
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO workflow_artifact (run_id, step, attempt, kind, location, content_type, sha256, size)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
    [runId, step, attempt, a.kind, a.location, a.contentType ?? null, a.sha256 ?? null, a.size ?? null],
  );
  return rows[0]!.id;
}

/**
 * Stores contents of an artifact row in chunks (after the ones it has, when appending) and sets its
 * digest and size from everything stored, computed by PostgreSQL so nothing is read back.
 */
export async function storeContent(tx: Db, artifactId: string, data: Buffer, append: boolean): Promise<void> {
  if (!append) await tx.query('DELETE FROM artifact_chunk WHERE artifact_id = $1', [artifactId]);
  const { rows } = await tx.query<{ next: number }>('SELECT coalesce(max(seq) + 1, 0)::int AS next FROM artifact_chunk WHERE artifact_id = $1', [artifactId]);
  let seq = rows[0]!.next;
  for (let at = 0; at < data.length; at += CHUNK_BYTES) {
    await tx.query('INSERT INTO artifact_chunk (artifact_id, seq, data) VALUES ($1, $2, $3)', [artifactId, seq++, data.subarray(at, at + CHUNK_BYTES)]);
  }
  await tx.query(
    `UPDATE workflow_artifact w SET stored = true, size = c.size, sha256 = c.sha256
       FROM (SELECT coalesce(sum(length(data)), 0) AS size, encode(sha256(coalesce(string_agg(data, ''::bytea ORDER BY seq), ''::bytea)), 'hex') AS sha256
               FROM artifact_chunk WHERE artifact_id = $1) c
      WHERE w.id = $1`,
    [artifactId],
  );
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
