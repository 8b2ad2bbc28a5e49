import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { FailureCode, FailureKind, type ArtifactKind } from '../interfaces.js';
import type { Logger } from '../log.js';
import { ProviderError } from '../providers/errors.js';
import { inTransaction } from '../db/transaction.js';
import type pg from 'pg';
import { storeContent, type ArtifactInput } from './db/artifacts.js';
import type { Db } from './db/columns.js';

/** The Codex JSONL log every run keeps (submit starts it, each poll of apply appends to it). */
export const CODEX_LOG_NAME = 'codex-log.jsonl';

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/**
 * Artifacts live in PostgreSQL, the store every machine shares. A step builds them here and hands them
 * to its outcome, whose transaction writes row and contents together: a recorded artifact always has
 * its contents, and a crash before the commit leaves neither.
 */
export class ArtifactStore {
  constructor(
    private readonly db: Db,
    /** The largest artifact kept; a larger one fails its step with ARTIFACT_TOO_LARGE. */
    readonly maxBytes: number,
  ) {}

  /** An artifact with these contents (replacing one of the same name and kind the run stored before). */
  write(runId: string, name: string, kind: ArtifactKind, content: string | Buffer, contentType = 'text/plain; charset=utf-8'): ArtifactInput {
    const data = Buffer.isBuffer(content) ? content : Buffer.from(content);
    if (data.length > this.maxBytes) {
      throw new ProviderError(
        FailureKind.PERMANENT,
        FailureCode.ARTIFACT_TOO_LARGE,
        `The ${kind} artifact ${name} is ${data.length} bytes, over the ${this.maxBytes}-byte limit (ARTIFACT_MAX_BYTES).`,
        { details: { kind, name, size: data.length, limit: this.maxBytes } },
      );
    }
    return { kind, location: `${runId}/${name}`, contentType, content: data, sha256: sha256(data), size: data.length };
  }

  /**
   * Lines to add to a growing log (a JSONL log that grows across steps): stored as one more chunk, never
   * rewriting what is there. A log that reached the limit stops growing.
   */
  append(runId: string, name: string, kind: ArtifactKind, content: string, contentType = 'application/x-ndjson'): ArtifactInput {
    return { kind, location: `${runId}/${name}`, contentType, content: Buffer.from(content), append: true, maxBytes: this.maxBytes };
  }

  /** A stored artifact's whole contents (the patch publish commits), in one query, or an error naming what is missing. */
  async read(runId: string, name: string): Promise<Buffer> {
    const { rows } = await this.db.query<{ data: Buffer }>(
      `SELECT c.data FROM artifact_chunk c
        WHERE c.artifact_id = (SELECT id FROM workflow_artifact WHERE run_id = $1 AND location = $2 AND stored ORDER BY created_at DESC LIMIT 1)
        ORDER BY c.seq`,
      [runId, `${runId}/${name}`],
    );
    if (!rows.length) throw new Error(`run ${runId} has no stored artifact ${name}`);
    return Buffer.concat(rows.map((r) => r.data));
  }
}

/**
 * A stored artifact's contents chunk by chunk, in order, read one chunk at a time so a large one is
 * never held whole. Only the chunks that existed when the read began: a log that grows meanwhile is read
 * as it was. Ends with an error if the artifact is replaced halfway (its chunks are gone).
 */
export async function* artifactChunks(db: Db, artifactId: string): AsyncGenerator<Buffer> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM artifact_chunk WHERE artifact_id = $1', [artifactId]);
  const count = rows[0]?.n ?? 0;
  for (let seq = 0; seq < count; seq++) {
    const chunk = await db.query<{ data: Buffer }>('SELECT data FROM artifact_chunk WHERE artifact_id = $1 AND seq = $2', [artifactId, seq]);
    if (!chunk.rows[0]) throw new Error(`artifact ${artifactId} changed while it was read`);
    yield chunk.rows[0].data;
  }
}

/**
 * Artifacts of an older version were files in a local folder (ARTIFACT_DIR): their contents move into
 * PostgreSQL once, row by row; a row whose file is gone stays recorded without contents (its download
 * says so). The folder itself is left as it is, for the operator to delete.
 */
export async function importArtifactFiles(db: pg.Pool, dir: string, log: Logger): Promise<void> {
  const { rows } = await db.query<{ id: string; location: string }>(
    `SELECT id, location FROM workflow_artifact WHERE NOT stored AND location !~ '^https?://' ORDER BY created_at`,
  );
  if (!rows.length) return;
  const root = resolve(dir);
  let imported = 0;
  const missing: string[] = [];
  for (const row of rows) {
    const path = resolve(root, row.location);
    const data = path.startsWith(root + sep) ? await readFile(path).catch(() => null) : null;
    if (!data) {
      missing.push(row.location);
      continue;
    }
    await inTransaction(db, (tx) => storeContent(tx, row.id, data, false));
    imported++;
  }
  if (!imported) return;
  log.info(
    { imported, missing: missing.length, folder: root, ...(missing.length ? { firstMissing: missing.slice(0, 5) } : {}) },
    `moved ${imported} artifact file(s) from ${root} into PostgreSQL; ${missing.length} recorded artifact(s) had no file there and stay without contents. ` +
      'The folder is no longer used: delete it when you no longer need it.',
  );
}
