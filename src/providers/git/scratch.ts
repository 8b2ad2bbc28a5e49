import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The only files a run's git work makes outside the shared cache: a step's temporary index (and, for a
 * conflict, the three versions of each conflicted file for `merge-file`), in a folder of its own that
 * is removed when the step's git work ends, however it ends. A folder left by a process that was
 * killed is swept by the next process that uses the cache (its owner is known to be gone), or by age.
 */
export async function withScratch<T>(cacheDir: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const root = join(cacheDir, SCRATCH);
  await mkdir(root, { recursive: true });
  const dir = join(root, `${OWNER}-${randomBytes(6).toString('hex')}`);
  await mkdir(dir);
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const SCRATCH = '.scratch';
/** Host and process in every scratch folder's name, so a sweep knows whose it is. */
const HOST = hostname().replace(/[^A-Za-z0-9.]/g, '_');
const OWNER = `${HOST}-${process.pid}`;

/** Scratch folders and git lock files older than these are left over from a process that stopped. */
const SCRATCH_MAX_AGE_MS = 24 * 3_600_000;
const LOCK_MAX_AGE_MS = 60_000;
const TEMP_PACK_MAX_AGE_MS = 6 * 3_600_000;
const SWEEP_EVERY_MS = 5 * 60_000;

const swept = new Map<string, { at: number; running?: Promise<void> }>();

/**
 * Removes what stopped processes left in the cache folder: their scratch folders, stale git lock files
 * (git holds a ref or config lock for milliseconds; one a minute old belongs to a killed git), half-made
 * caches and temporary packs, and the worktrees of versions that still made checkouts. Runs on the first
 * use in a process (awaited), then at most every few minutes in the background.
 */
export async function sweepStale(ctx: { cacheDir: string }): Promise<void> {
  const last = swept.get(ctx.cacheDir);
  if (last?.running) return last.running;
  if (last && Date.now() - last.at < SWEEP_EVERY_MS) return;
  const running = sweep(ctx.cacheDir).finally(() => swept.set(ctx.cacheDir, { at: Date.now() }));
  swept.set(ctx.cacheDir, { at: Date.now(), running });
  if (!last) return running;
}

async function sweep(cacheDir: string): Promise<void> {
  const now = Date.now();
  const old = async (path: string, age: number) => {
    const info = await stat(path).catch(() => null);
    return info !== null && now - info.mtimeMs > age;
  };
  const remove = (path: string) => rm(path, { recursive: true, force: true }).catch(() => {});

  for (const name of await list(join(cacheDir, SCRATCH))) {
    const match = /^(.+)-(\d+)-[0-9a-f]+$/.exec(name);
    const path = join(cacheDir, SCRATCH, name);
    const gone = match !== null && match[1] === HOST && Number(match[2]) !== process.pid && !alive(Number(match[2]));
    if (gone || (await old(path, SCRATCH_MAX_AGE_MS))) await remove(path);
  }
  for (const owner of await list(cacheDir)) {
    if (owner.startsWith('.')) continue;
    for (const name of await list(join(cacheDir, owner))) {
      const repo = join(cacheDir, owner, name);
      if (/\.git\.init-/.test(name)) {
        if (await old(repo, LOCK_MAX_AGE_MS)) await remove(repo);
        continue;
      }
      if (!name.endsWith('.git')) continue;
      await remove(join(repo, 'worktrees'));
      for (const lock of [...(await locksIn(repo, '')), ...(await locksIn(repo, 'refs'))]) {
        if (await old(lock, LOCK_MAX_AGE_MS)) await remove(lock);
      }
      for (const file of await list(join(repo, 'objects', 'pack'))) {
        const path = join(repo, 'objects', 'pack', file);
        if (file.startsWith('tmp_') && (await old(path, TEMP_PACK_MAX_AGE_MS))) await remove(path);
      }
    }
  }
}

/** `*.lock` files in `dir` of the repository (recursively under refs/). */
async function locksIn(repo: string, dir: string): Promise<string[]> {
  const entries = await readdir(join(repo, dir), { withFileTypes: true, recursive: dir !== '' }).catch(() => []);
  return entries.filter((e) => e.isFile() && e.name.endsWith('.lock')).map((e) => join(e.parentPath, e.name));
}

async function list(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
