import type { CachedRepository } from './cache.js';
import type { TreeEntry } from './objects.js';

/** Where a path leads in a commit: an entry, nothing, or out of the repository through a symbolic link. */
export type Resolved = { status: 'found'; entry: TreeEntry; path: string } | { status: 'missing' } | { status: 'outside' };

const LINK = '120000';
const TREE = '040000';
/** As the kernel's ELOOP limit: a chain of links longer than this is treated as leaving the tree. */
const MAX_LINKS = 40;

/**
 * A commit's files read straight from the cache's objects, with no checkout: trees are always there (the
 * cache fetches everything but blobs), and a blob is fetched with the run's token when it is first read.
 * It answers as speckit's FileTree for discovery, and resolves paths for the patch checks.
 */
export class CommitTree {
  constructor(
    private readonly repo: CachedRepository,
    /** The commit's root tree. */
    private readonly rootTree: string,
    /** The commit, for naming paths (`<sha>:<path>`). */
    readonly commit: string,
    private readonly signal?: AbortSignal,
  ) {}

  /**
   * Follows `path` from the root, one component at a time, through symbolic links as a file system
   * would (every component, the last one too when `followLast`). A link that is absolute, or climbs
   * above the root, leads outside.
   */
  async resolve(path: string, followLast = true): Promise<Resolved> {
    let pending = split(path);
    const done: string[] = [];
    let tree = this.rootTree;
    let entry: TreeEntry | undefined;
    let links = 0;
    while (pending.length) {
      const part = pending.shift()!;
      if (part === '..') {
        if (!done.length) return { status: 'outside' };
        done.pop();
        ({ tree, entry } = await this.walk(done));
        continue;
      }
      if (entry && entry.mode !== TREE) return { status: 'missing' };
      const found = (await this.repo.objects.tree(tree)).find((e) => e.name === part);
      if (!found) return { status: 'missing' };
      if (found.mode === LINK && (pending.length > 0 || followLast)) {
        if (++links > MAX_LINKS) return { status: 'outside' };
        const target = (await this.repo.readBlob(found.oid, this.signal)).toString('utf8');
        if (target.startsWith('/')) return { status: 'outside' };
        pending = [...split(target), ...pending];
        ({ tree, entry } = await this.walk(done));
        continue;
      }
      done.push(part);
      entry = found;
      tree = found.oid;
    }
    if (!entry) return { status: 'found', entry: { mode: TREE, name: '', oid: this.rootTree }, path: '' };
    return { status: 'found', entry, path: done.join('/') };
  }

  /** The tree (and entry) at a path already known to hold no links. */
  private async walk(parts: string[]): Promise<{ tree: string; entry: TreeEntry | undefined }> {
    let tree = this.rootTree;
    let entry: TreeEntry | undefined;
    for (const part of parts) {
      entry = (await this.repo.objects.tree(tree)).find((e) => e.name === part)!;
      tree = entry.oid;
    }
    return { tree, entry };
  }

  // speckit's FileTree: what discovery reads.

  async kind(path: string): Promise<'file' | 'directory' | 'outside' | null> {
    const resolved = await this.resolve(path);
    if (resolved.status === 'outside') return 'outside';
    if (resolved.status === 'missing') return null;
    const { mode } = resolved.entry;
    return mode === TREE ? 'directory' : mode.startsWith('100') ? 'file' : null;
  }

  async list(path: string): Promise<{ name: string; kind: 'file' | 'directory' | 'other' }[]> {
    const resolved = await this.resolve(path);
    if (resolved.status !== 'found' || resolved.entry.mode !== TREE) throw Object.assign(new Error(`${path} is not a folder`), { code: 'ENOTDIR' });
    return (await this.repo.objects.tree(resolved.entry.oid)).map((e) => ({
      name: e.name,
      kind: e.mode === TREE ? 'directory' : e.mode.startsWith('100') ? 'file' : 'other',
    }));
  }

  async read(path: string): Promise<Uint8Array> {
    const resolved = await this.resolve(path);
    if (resolved.status === 'outside') throw Object.assign(new Error(`${path} leads outside the repository`), { code: 'EACCES' });
    if (resolved.status === 'missing') throw Object.assign(new Error(`${path} does not exist`), { code: 'ENOENT' });
    if (!resolved.entry.mode.startsWith('100')) throw Object.assign(new Error(`${path} is not a file`), { code: 'EISDIR' });
    return this.repo.readBlob(resolved.entry.oid, this.signal);
  }

  locate(path: string): string {
    return `${this.commit}:${path}`;
  }
}

function split(path: string): string[] {
  return path.split('/').filter((p) => p !== '' && p !== '.');
}
