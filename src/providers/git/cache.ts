import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { FailureCode } from '../../interfaces.js';
import { permanent } from '../errors.js';
import { gitAuth, type GitAuth } from './auth.js';
import { isValidBranchName } from './branch-name.js';
import { classifyRemoteFailure, lastLines } from './classify.js';
import { runGit, type GitOutput, type GitRunOptions } from './exec.js';
import { objectReader, type ObjectReader } from './objects.js';
import { parseRepository, remoteUrl } from './repository.js';
import { sweepStale } from './scratch.js';

/** Where and how this process runs git. */
export interface GitContext {
  /** Bare partial clones, one per repository: `<cacheDir>/<owner>/<name>.git`. */
  cacheDir: string;
  /** `https://github.com`, or `file:///path/to/gitRoot` for local bare repositories. */
  gitBaseUrl: string;
  /** The git executable. */
  bin: string;
}

const tails = new Map<string, Promise<unknown>>();

/**
 * Runs `fn` after every earlier operation on the same key has ended: one fetch at a time per cached
 * repository inside this process (other processes are handled by retrying git's lock errors).
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
  return (await gitOutputOrThrow(args, options, what)).stdout;
}

export async function gitOutputOrThrow(args: readonly string[], options: GitRunOptions, what: string): Promise<GitOutput> {
  const result = await runGit(args, options);
  if (result.code !== 0) {
    throw permanent(FailureCode.INTERNAL, `${what} failed: ${lastLines(result.output)}`, { details: { gitOutput: result.output } });
  }
  return result;
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

/**
 * A repository's cache as one run's git work sees it: its objects (through the long-lived reader) and
 * git commands that reach the remote with the run's token.
 *
 * The cache is a partial clone: every fetch asks for `blob:none`, so history and trees come whole and a
 * blob only when something reads it. The promisor remote (`origin`, its URL and the filter) is given to
 * each command rather than written into the cache's config: the config then names no host or port that
 * may change, only commands that carry a token can fetch, and the object reader (which has none) answers
 * `missing` instead of trying a fetch it could not authenticate.
 */
export interface CachedRepository {
  repository: string;
  path: string;
  objects: ObjectReader;
  /** Runs git in the cache with the promisor remote and the token's header. */
  git(args: readonly string[], options?: { input?: string | Uint8Array; env?: Record<string, string>; signal?: AbortSignal }): Promise<GitOutput>;
  /** Fetches the objects this machine lacks (blobs, a commit) in one request; returns those still missing. */
  ensureObjects(oids: Iterable<string>, signal?: AbortSignal): Promise<string[]>;
  /** A blob's bytes, fetched first when this machine lacks it. */
  readBlob(oid: string, signal?: AbortSignal): Promise<Buffer>;
  auth: GitAuth | undefined;
}

/** Object fetches under way in this process, by cache and object id. */
const fetching = new Map<string, Promise<void>>();

export async function openCache(ctx: GitContext, repository: string, auth: GitAuth | undefined, signal?: AbortSignal): Promise<CachedRepository> {
  const path = await ensureCache(ctx, repository, signal);
  await sweepStale(ctx);
  const { env: authEnv, secrets } = gitAuth(ctx.gitBaseUrl, auth);
  const remote = ['-c', `remote.origin.url=${remoteUrl(ctx.gitBaseUrl, repository)}`, '-c', 'remote.origin.promisor=true', '-c', 'remote.origin.partialclonefilter=blob:none'];
  const objects = objectReader(path, ctx.bin);
  const repo: CachedRepository = {
    repository,
    path,
    objects,
    auth,
    git: (args, options = {}) =>
      runGit([...remote, ...args], { cwd: path, bin: ctx.bin, env: { ...authEnv, ...options.env }, secrets, input: options.input, signal: options.signal ?? signal }),
    async ensureObjects(oids, callSignal) {
      const wanted = [...new Set(oids)];
      // Runs of one repository often want the same blob at once (the same tasks.md): one fetch serves them.
      const pending = wanted.map((oid) => fetching.get(`${path}\n${oid}`)).filter((p) => p !== undefined);
      await Promise.all(pending.map((p) => p.catch(() => {})));
      const missing = (await Promise.all(wanted.map(async (oid) => ((await objects.info(oid)).missing ? oid : null)))).filter((o) => o !== null);
      if (!missing.length) return [];
      // What git itself runs for a lazy fetch: these ids, no negotiation, still no other blobs.
      const fetch = repo
        .git(
          ['-c', 'fetch.negotiationAlgorithm=noop', 'fetch', 'origin', '--no-tags', '--no-write-fetch-head', '--recurse-submodules=no', '--filter=blob:none', '--stdin'],
          { input: missing.map((oid) => `${oid}\n`).join(''), signal: callSignal },
        )
        .then((fetched) => {
          if (fetched.code !== 0 && !/not our ref|unadvertised object|no such remote ref/i.test(fetched.output)) {
            throw classifyRemoteFailure(`Fetching ${missing.length} object(s) of ${repository}`, fetched.output, {
              secretRef: auth?.secretRef,
              fallback: FailureCode.REPOSITORY_UNAVAILABLE,
            });
          }
        });
      const keys = missing.map((oid) => `${path}\n${oid}`);
      for (const key of keys) fetching.set(key, fetch);
      try {
        await fetch;
      } finally {
        for (const key of keys) if (fetching.get(key) === fetch) fetching.delete(key);
      }
      const still = await Promise.all(missing.map(async (oid) => ((await objects.info(oid)).missing ? oid : null)));
      return still.filter((o) => o !== null);
    },
    async readBlob(oid, callSignal) {
      let blob = await objects.contents(oid);
      if (!blob) {
        await repo.ensureObjects([oid], callSignal);
        blob = await objects.contents(oid);
      }
      if (!blob || blob.type !== 'blob') {
        throw permanent(FailureCode.REPOSITORY_UNAVAILABLE, `${repository} has no blob ${oid} (it was not in the cache and could not be fetched).`);
      }
      return blob.body;
    },
  };
  return repo;
}

export interface FetchBaseInput {
  repository: string;
  baseBranch?: string;
  baseSha?: string;
  auth?: GitAuth;
  signal?: AbortSignal;
}

/** Brings the base commit into the cache (fetching the branch, or the commit when only a sha is given) and returns its sha. */
export async function fetchBase(ctx: GitContext, input: FetchBaseInput): Promise<string> {
  const { repository, baseBranch, baseSha, signal } = input;
  if (baseSha !== undefined && !/^[0-9a-f]{40}(?:[0-9a-f]{24})?$/.test(baseSha)) {
    throw permanent(FailureCode.REPOSITORY_UNAVAILABLE, `"${baseSha}" is not a full commit id.`);
  }
  if (baseSha === undefined && (baseBranch === undefined || !isValidBranchName(baseBranch))) {
    throw permanent(FailureCode.REPOSITORY_UNAVAILABLE, `"${baseBranch ?? ''}" is not a valid base branch name.`);
  }
  const repo = await openCache(ctx, repository, input.auth, signal);
  if (baseSha !== undefined) {
    if ((await repo.objects.info(baseSha)).missing === false) return baseSha;
    return serialize(repo.path, () => fetchInto(repo, input));
  }
  // Callers that arrive while a fetch of the same branch is queued (not started yet) share it: it starts
  // after they asked, so it sees everything they would have fetched. Many runs of one repository then
  // cost one fetch per round instead of one each.
  const key = `${repo.path}\n${baseBranch}\n${input.auth ? createHash('sha256').update(input.auth.token).digest('hex') : ''}`;
  let queued = queuedFetches.get(key);
  if (!queued) {
    queued = serialize(repo.path, () => {
      queuedFetches.delete(key);
      return fetchInto(repo, input);
    });
    queuedFetches.set(key, queued);
  }
  return queued;
}

const queuedFetches = new Map<string, Promise<string>>();

async function fetchInto(repo: CachedRepository, input: FetchBaseInput): Promise<string> {
  const { repository, baseBranch, baseSha, signal } = input;
  const tracking = `refs/remotes/origin/${baseBranch}`;
  if (baseSha === undefined || (await repo.objects.info(baseSha)).missing) {
    const refspec = baseSha ?? `+refs/heads/${baseBranch}:${tracking}`;
    // The filter comes from the promisor remote's settings (blob:none), not from --filter: given on the
    // command line, git would record it in the cache's config on every fetch.
    const fetched = await repo.git(['fetch', '--no-tags', '--no-write-fetch-head', '--no-recurse-submodules', 'origin', refspec], { signal });
    if (fetched.code !== 0) {
      if (/couldn't find remote ref|not our ref|no such remote ref|unadvertised object/i.test(fetched.output)) {
        throw permanent(FailureCode.REPOSITORY_UNAVAILABLE, `${repository} has no ${baseSha ? `commit ${baseSha}` : `branch "${baseBranch}"`}.`, {
          details: { gitOutput: fetched.output },
        });
      }
      throw classifyRemoteFailure(`Fetching ${repository}`, fetched.output, {
        secretRef: repo.auth?.secretRef,
        fallback: FailureCode.REPOSITORY_UNAVAILABLE,
      });
    }
  }
  const info = await repo.objects.info(baseSha ?? tracking);
  if (info.missing || info.type !== 'commit') {
    throw permanent(FailureCode.REPOSITORY_UNAVAILABLE, `${repository}: ${baseSha ?? baseBranch} is not a commit after fetching it.`);
  }
  return info.oid;
}
