import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Tx } from '../db/transaction.js';
import type { ArtifactKind, Step } from '../interfaces.js';

/** An artifact to record with a step's outcome: a file in the store, or an outside URL. */
export interface ArtifactInput {
  kind: ArtifactKind;
  /** Path relative to the artifact store, or an http(s) URL. */
  location: string;
  contentType?: string;
  sha256?: string | null;
  size?: number | null;
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/**
 * The artifact store: a local folder by default, one sub-folder per run. Files are written before the
 * transaction that records them, so a recorded artifact always exists.
 */
export class ArtifactStore {
  constructor(readonly root: string) {}

  /** The absolute path of a stored location, refusing anything that would leave the store. */
  pathOf(location: string): string {
    const path = resolve(this.root, location);
    if (!path.startsWith(resolve(this.root) + sep)) throw new Error(`artifact location escapes the store: ${location}`);
    return path;
  }

  async write(runId: string, name: string, kind: ArtifactKind, content: string | Buffer, contentType = 'text/plain; charset=utf-8'): Promise<ArtifactInput> {
    const location = join(runId, name);
    const path = this.pathOf(location);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
    return { kind, location, contentType, sha256: sha256(content), size: Buffer.byteLength(content) };
  }

  /** Appends lines (a JSONL log that grows across steps) and returns the file's current digest. */
  async append(runId: string, name: string, kind: ArtifactKind, content: string, contentType = 'application/x-ndjson'): Promise<ArtifactInput> {
    const location = join(runId, name);
    const path = this.pathOf(location);
    await mkdir(dirname(path), { recursive: true });
    if (content) await appendFile(path, content);
    const data = await readFile(path).catch(() => Buffer.alloc(0));
    return { kind, location, contentType, sha256: sha256(data), size: (await stat(path).catch(() => ({ size: 0 }))).size };
  }

  read(location: string): Promise<Buffer> {
    return readFile(this.pathOf(location));
  }
}

/**
 * Records artifacts of a step attempt. A location recorded before (a growing log) gets its digest and
 * size refreshed instead of a second row.
 */
export async function recordArtifacts(tx: Tx, runId: string, step: Step, attempt: number, artifacts: ArtifactInput[]): Promise<void> {
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
