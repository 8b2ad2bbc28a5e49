import { mkdir, readFile, realpath, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { FailureCode } from '../../interfaces.js';
import { permanent } from '../errors.js';
import type { GitAuth } from './auth.js';
import { fetchBase, gitOrThrow, serialize, type GitContext } from './cache.js';
import { runGit } from './exec.js';

export interface PrepareWorktreeInput {
  repository: string;
  /** The branch to start from; ignored when `baseSha` is given. */
  baseBranch?: string;
  /** A fixed commit to start from (a resumed run uses the one it recorded). */
  baseSha?: string;
  /** The run's own folder. */
  dir: string;
  auth?: GitAuth;
  signal?: AbortSignal;
}

export interface Worktree {
  path: string;
  baseSha: string;
}

/**
 * A checkout of the base commit in `dir`, sharing the cache's objects. Idempotent: when `dir` already
 * holds a worktree of this repository (an earlier attempt of the same run) it is reset to the base
 * and cleaned rather than created again.
 */
export async function prepareWorktree(ctx: GitContext, input: PrepareWorktreeInput): Promise<Worktree> {
  const dir = resolve(input.dir);
  const { cache, sha } = await fetchBase(ctx, input);
  const options = { bin: ctx.bin, signal: input.signal };
  await serialize(cache, async () => {
    if ((await worktreeCommonDir(dir)) === (await realpath(cache))) {
      await gitOrThrow(['reset', '--quiet', '--hard', sha], { ...options, cwd: dir }, `Resetting ${dir}`);
      await gitOrThrow(['clean', '-ffdxq'], { ...options, cwd: dir }, `Cleaning ${dir}`);
      return;
    }
    await rm(dir, { recursive: true, force: true });
    await mkdir(dirname(dir), { recursive: true });
    await gitOrThrow(['worktree', 'prune'], { ...options, cwd: cache }, 'Pruning worktrees');
    await gitOrThrow(['worktree', 'add', '--force', '--detach', '--quiet', dir, sha], { ...options, cwd: cache }, `Creating a worktree in ${dir}`);
  });
  return { path: dir, baseSha: sha };
}

/** Removes a worktree made by prepareWorktree (and its record in the cache); a missing one is fine. */
export async function removeWorktree(ctx: GitContext, dir: string): Promise<void> {
  const path = resolve(dir);
  const common = await worktreeCommonDir(path);
  if (!common) {
    await rm(path, { recursive: true, force: true });
    return;
  }
  await serialize(common, async () => {
    await runGit(['worktree', 'remove', '--force', '--force', path], { cwd: common, bin: ctx.bin });
    await rm(path, { recursive: true, force: true });
    await runGit(['worktree', 'prune'], { cwd: common, bin: ctx.bin });
  });
}

/**
 * The repository a linked worktree belongs to, read from its `.git` file (`gitdir: <common>/worktrees/<n>`),
 * and only when that record still points back at `dir`: anything else is not ours to reuse.
 */
export async function worktreeCommonDir(dir: string): Promise<string | undefined> {
  try {
    const link = /^gitdir: (.+)$/m.exec(await readFile(join(dir, '.git'), 'utf8'))?.[1]?.trim();
    if (!link) return undefined;
    const admin = await realpath(isAbsolute(link) ? link : resolve(dir, link));
    const back = (await readFile(join(admin, 'gitdir'), 'utf8')).trim();
    if ((await realpath(dirname(back))) !== (await realpath(dir))) return undefined;
    const common = resolve(admin, '..', '..');
    return admin.startsWith(join(common, 'worktrees') + sep) ? common : undefined;
  } catch {
    return undefined;
  }
}

/** `owner/name` of a worktree made by prepareWorktree, read from where its repository sits in the cache. */
export async function repositoryOfWorktree(ctx: GitContext, dir: string): Promise<string> {
  const common = await worktreeCommonDir(resolve(dir));
  const path = common && relative(await realpath(ctx.cacheDir), common);
  const match = path && /^([^/]+)\/([^/]+)\.git$/.exec(path.split(sep).join('/'));
  if (!match) throw permanent(FailureCode.INTERNAL, `${dir} is not a worktree of the clone cache ${ctx.cacheDir}.`);
  return `${match[1]}/${match[2]}`;
}
