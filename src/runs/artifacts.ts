import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { ArtifactKind } from '../interfaces.js';
import type { ArtifactInput } from './db/artifacts.js';

/** The Codex JSONL log every run keeps (submit starts it, each poll of apply appends to it). */
export const CODEX_LOG_NAME = 'codex-log.jsonl';

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
