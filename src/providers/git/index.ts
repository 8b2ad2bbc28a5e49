import { resolve } from 'node:path';
import { FailureCode } from '../../interfaces.js';
import { permanent } from '../errors.js';
import { lastLines } from './classify.js';
import { applyPatchToCommit, type ApplyInput, type ApplyResult, type CommitInput } from './apply.js';
import type { GitAuth } from './auth.js';
import { fetchBase, openCache, type FetchBaseInput, type GitContext } from './cache.js';
import { launcherCpu } from './exec.js';
import { readersCpuMs } from './objects.js';
import { pushCommit, type PushInput, type PushResult } from './push.js';
import { CommitTree } from './tree.js';
import { readCommitChange, type CommitChange } from './change.js';

export type { ApplyInput, ApplyResult, CommitChange, CommitInput, FetchBaseInput, PushInput, PushResult, CommitTree };
export type { GitAuth } from './auth.js';
export { branchName, isValidBranchName } from './branch-name.js';
export { remoteUrl, parseRepository } from './repository.js';
export { gitProcessesStarted } from './exec.js';

/**
 * CPU this process's git work has used so far (ms): the launcher, the git processes it ran, and the
 * object readers running now. For the benchmark; the service itself never needs it.
 */
export async function gitCpu(): Promise<{ launcherMs: number; gitMs: number; readersMs: number }> {
  return { ...(await launcherCpu()), readersMs: readersCpuMs() };
}

/**
 * What the chain does with git, on one bare partial clone per repository and machine and never a
 * checkout: fetch the base, read its files, apply a patch to it as a commit, push that commit.
 */
export interface Git {
  /** Brings the base branch's tip (or the given commit) into this machine's cache; its sha. */
  fetchBase(input: FetchBaseInput): Promise<string>;
  /** A commit's files, read from the cache (blobs fetched with `auth` as they are read). */
  readTree(input: { repository: string; sha: string; auth?: GitAuth; signal?: AbortSignal }): Promise<CommitTree>;
  /**
   * `git apply --3way` on a temporary index of the base, then `commit-tree`: the same sha on any worker.
   * The commit's author and committer are the configured identity unless `commit.author` is given.
   */
  applyPatchToCommit(input: Omit<ApplyInput, 'commit'> & { commit: Omit<CommitInput, 'author'> & Partial<Pick<CommitInput, 'author'>> }): Promise<ApplyResult>;
  /**
   * A pull request's change: `git diff --binary from...to` (from their merge base, so commits the base got
   * since the branch left it are not undone), blobs fetched as needed.
   */
  diff(input: { repository: string; fromSha: string; toSha: string; auth?: GitAuth; signal?: AbortSignal }): Promise<string>;
  /** Whether this machine's cache holds the commit (another worker may have made it). */
  hasCommit(repository: string, sha: string): Promise<boolean>;
  /** One atomic, leased push of the commit to `refs/heads/<branch>`. */
  pushCommit(input: PushInput): Promise<PushResult>;
  /** What a commit of the cache changes against its parent, as whole files (for createCommitOnBranch). */
  readChange(input: { repository: string; sha: string; auth?: GitAuth; signal?: AbortSignal }): Promise<CommitChange>;
}

export interface GitOptions {
  /** Folder of the shared clone cache (several worker processes may use the same one). */
  cacheDir: string;
  /** `https://github.com`, or `file:///path/to/gitRoot` where `owner/name` is `<gitRoot>/owner/name.git`. */
  gitBaseUrl: string;
  /** The git executable; `git` on PATH by default. */
  gitBinary?: string;
  /** Author and committer of the commits made (GIT_AUTHOR_NAME / GIT_AUTHOR_EMAIL). */
  author?: { name: string; email: string };
}

/** The real `git` executable behind the Git interface. */
export function createGit(options: GitOptions): Git {
  const ctx: GitContext = {
    cacheDir: resolve(options.cacheDir),
    gitBaseUrl: options.gitBaseUrl.replace(/\/+$/, ''),
    bin: options.gitBinary ?? 'git',
  };
  return {
    fetchBase: (input) => fetchBase(ctx, input),
    readTree: async ({ repository, sha, auth, signal }) => {
      const repo = await openCache(ctx, repository, auth, signal);
      const root = await repo.objects.commitTree(sha);
      if (!root) throw new TypeError(`Commit ${sha} of ${repository} is not in the cache: fetch it first.`);
      return new CommitTree(repo, root, sha, signal);
    },
    applyPatchToCommit: (input) => {
      const author = input.commit.author ?? options.author;
      if (!author) throw new TypeError('a commit needs an author: pass one or configure the git provider with one');
      return applyPatchToCommit(ctx, { ...input, commit: { ...input.commit, author } });
    },
    diff: async ({ repository, fromSha, toSha, auth, signal }) => {
      for (const sha of [fromSha, toSha]) await fetchBase(ctx, { repository, baseSha: sha, auth, signal });
      const repo = await openCache(ctx, repository, auth, signal);
      const out = await repo.git(['diff', '--binary', '--full-index', `${fromSha}...${toSha}`]);
      if (out.code !== 0) throw permanent(FailureCode.REPOSITORY_UNAVAILABLE, `Reading the change ${fromSha.slice(0, 12)}..${toSha.slice(0, 12)} of ${repository} failed: ${lastLines(out.output)}`);
      return out.stdout;
    },
    hasCommit: async (repository, sha) => {
      const repo = await openCache(ctx, repository, undefined);
      const info = await repo.objects.info(sha);
      return !info.missing && info.type === 'commit';
    },
    pushCommit: (input) => pushCommit(ctx, input),
    readChange: (input) => readCommitChange(ctx, input),
  };
}
