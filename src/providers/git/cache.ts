import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { FailureCode } from '../../interfaces.js';
import { permanent } from '../errors.js';
import { gitAuth, type GitAuth } from './auth.js';
import { classifyRemoteFailure, lastLines } from './classify.js';
import { runGit, type GitRunOptions } from './exec.js';
import { isValidBranchName } from './branch-name.js';
import { parseRepository, remoteUrl } from './repository.js';

/** Where and how this process runs git. */
export interface GitContext {
  /** Bare clones, one per repository: `<cacheDir>/<owner>/<name>.git`. */
  cacheDir: string;
  /** `https://github.com`, or `file:///path/to/gitRoot` for local bare repositories. */
  gitBaseUrl: string;
  /** The git executable. */
  bin: string;
}

const tails = new Map<string, Promise<unknown>>();

/**
 * Runs `fn` after every earlier operation on the same key has ended: one git operation at a time per
 * cached repository inside this process (other processes are handled by retrying git's lock errors).
 */
export function serialize<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const run = (tails.get(key) ?? Promise.resolve()).then(fn, fn);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  tails.set(key, tail);
  void tail.then(() => {
    if (tails.get(key) === tail) tails.delete(key);
  });
  return run;
}

/** Runs git and throws a PERMANENT INTERNAL error (with git's redacted output) when it fails. */
export async function gitOrThrow(args: readonly string[], options: GitRunOptions, what: string): Promise<string> {
  const result = await runGit(args, options);
  if (result.code !== 0) {
    throw permanent(FailureCode.INTERNAL, `${what} failed: ${lastLines(result.output)}`, { details: { gitOutput: result.output } });
  }
  return result.stdout;
}

export function cachePath(ctx: GitContext, repository: string): string {
  const { owner, name } = parseRepository(repository);
  return join(ctx.cacheDir, owner, `${name}.git`);
}

/**
 * The repository's bare clone, created empty on first use. Several processes (and runs in this one)
 * may ask for a fresh cache at once: each initialises a private folder beside it and renames it into
 * place, so the cache appears whole or not at all, and the losers of the race drop their copy.
 */
export async function ensureCache(ctx: GitContext, repository: string, signal?: AbortSignal): Promise<string> {
  const path = cachePath(ctx, repository);
  if (existsSync(join(path, 'HEAD'))) return path;
  await mkdir(dirname(path), { recursive: true });
  const scratch = await mkdtemp(`${path}.init-`);
  try {
    await gitOrThrow(['init', '--bare', '--quiet', scratch], { cwd: scratch, bin: ctx.bin, signal }, `Creating the clone cache of ${repository}`);
    await rename(scratch, path).catch((e: NodeJS.ErrnoException) => {
      // Another process renamed its copy first: that cache is as good as ours.
      if (!(['ENOTEMPTY', 'EEXIST'].includes(e.code ?? '') && existsSync(join(path, 'HEAD')))) throw e;
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return path;
}

export interface FetchBaseInput {
  repository: string;
  baseBranch?: string;
  baseSha?: string;
  auth?: GitAuth;
  signal?: AbortSignal;
}

/** Brings the base commit into the cache (fetching the branch, or the commit when only a sha is given). */
export async function fetchBase(ctx: GitContext, input: FetchBaseInput): Promise<{ cache: string; sha: string }> {
  const { repository, baseBranch, baseSha, signal } = input;
  if (baseSha !== undefined && !/^[0-9a-f]{40}(?:[0-9a-f]{24})?$/.test(baseSha)) {
    throw permanent(FailureCode.REPOSITORY_UNAVAILABLE, `"${baseSha}" is not a full commit id.`);
  }
  if (baseSha === undefined && (baseBranch === undefined || !isValidBranchName(baseBranch))) {
    throw permanent(FailureCode.REPOSITORY_UNAVAILABLE, `"${baseBranch ?? ''}" is not a valid base branch name.`);
  }
  const cache = await ensureCache(ctx, repository, signal);
  if (baseSha !== undefined) return serialize(cache, () => fetchInto(ctx, cache, input));
  // Callers that arrive while a fetch of the same branch is queued (not started yet) share it: it starts
  // after they asked, so it sees everything they would have fetched. Many runs of one repository then
  // cost one fetch per round instead of one each.
  const key = `${cache}\n${baseBranch}\n${input.auth ? createHash('sha256').update(input.auth.token).digest('hex') : ''}`;
  let queued = queuedFetches.get(key);
  if (!queued) {
    queued = serialize(cache, () => {
      queuedFetches.delete(key);
      return fetchInto(ctx, cache, input);
    });
    queuedFetches.set(key, queued);
  }
  return queued;
}

const queuedFetches = new Map<string, Promise<{ cache: string; sha: string }>>();

async function fetchInto(ctx: GitContext, cache: string, input: FetchBaseInput): Promise<{ cache: string; sha: string }> {
  const { repository, baseBranch, baseSha, signal } = input;
  {
    const { env, secrets } = gitAuth(ctx.gitBaseUrl, input.auth);
    const options = { cwd: cache, bin: ctx.bin, signal, env, secrets };
    const url = remoteUrl(ctx.gitBaseUrl, repository);
    const tracking = `refs/remotes/origin/${baseBranch}`;
    const wanted = baseSha ?? tracking;
    if (baseSha === undefined || !(await hasCommit(options, baseSha))) {
      const refspec = baseSha ?? `+refs/heads/${baseBranch}:${tracking}`;
      const fetched = await runGit(['fetch', '--no-tags', '--no-write-fetch-head', '--no-recurse-submodules', url, refspec], options);
      if (fetched.code !== 0) {
        if (/couldn't find remote ref|not our ref|no such remote ref|unadvertised object/i.test(fetched.output)) {
          throw permanent(
            FailureCode.REPOSITORY_UNAVAILABLE,
            `${repository} has no ${baseSha ? `commit ${baseSha}` : `branch "${baseBranch}"`}.`,
            { details: { gitOutput: fetched.output } },
          );
        }
        throw classifyRemoteFailure(`Fetching ${repository}`, fetched.output, {
          secretRef: input.auth?.secretRef,
          fallback: FailureCode.REPOSITORY_UNAVAILABLE,
        });
      }
    }
    const sha = (await gitOrThrow(['rev-parse', '--verify', '--quiet', `${wanted}^{commit}`], options, `Resolving ${wanted}`)).trim();
    return { cache, sha };
  }
}

async function hasCommit(options: GitRunOptions, sha: string): Promise<boolean> {
  return (await runGit(['cat-file', '-e', `${sha}^{commit}`], options)).code === 0;
}
