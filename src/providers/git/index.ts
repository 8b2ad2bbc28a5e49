import { resolve } from 'node:path';
import { applyPatch, type ApplyResult } from './apply.js';
import type { GitContext } from './cache.js';
import { commit, type CommitInput } from './commit.js';
import { pushBranch, type PushInput, type PushResult } from './push.js';
import { prepareWorktree, removeWorktree, type PrepareWorktreeInput, type Worktree } from './worktree.js';

export type { ApplyResult, CommitInput, PushInput, PushResult, PrepareWorktreeInput, Worktree };
export type { GitAuth } from './auth.js';
export { branchName, isValidBranchName } from './branch-name.js';
export { remoteUrl, parseRepository } from './repository.js';

/** What the chain does with git: a worktree per run, the patch, one commit, one push. */
export interface Git {
  prepareWorktree(input: PrepareWorktreeInput): Promise<Worktree>;
  removeWorktree(dir: string): Promise<void>;
  applyPatch(worktreePath: string, diff: string, signal?: AbortSignal): Promise<ApplyResult>;
  /** Returns the new commit's sha; author and committer are the configured identity unless `author` is given. */
  commit(worktreePath: string, input: Omit<CommitInput, 'author'> & Partial<Pick<CommitInput, 'author'>>): Promise<string>;
  pushBranch(input: PushInput): Promise<PushResult>;
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
    prepareWorktree: (input) => prepareWorktree(ctx, input),
    removeWorktree: (dir) => removeWorktree(ctx, dir),
    applyPatch: (worktreePath, diff, signal) => applyPatch(ctx, worktreePath, diff, signal),
    commit: (worktreePath, input) => {
      const author = input.author ?? options.author;
      if (!author) throw new TypeError('a commit needs an author: pass one or configure the git provider with one');
      return commit(ctx, worktreePath, { ...input, author });
    },
    pushBranch: (input) => pushBranch(ctx, input),
  };
}
