import { FailureCode } from '../../interfaces.js';
import { permanent } from '../errors.js';
import { gitOrThrow, type GitContext } from './cache.js';
import type { GitRunOptions } from './exec.js';

export interface CommitInput {
  message: string;
  /** Also the committer. */
  author: { name: string; email: string };
  /** Author and committer date. */
  date: Date | string;
  signal?: AbortSignal;
}

/**
 * Commits what is staged on top of HEAD and moves HEAD to it. Nothing but the tree, the parent, the
 * identity, the date and the message goes into the commit, so the same patch on the same base with
 * the same inputs gives the same sha on any worker: a later step re-creates it instead of storing it.
 */
export async function commit(ctx: GitContext, worktreePath: string, input: CommitInput): Promise<string> {
  const options: GitRunOptions = { cwd: worktreePath, bin: ctx.bin, signal: input.signal };
  const unmerged = await gitOrThrow(['ls-files', '--unmerged'], options, 'Listing conflicts');
  if (unmerged.trim()) {
    throw permanent(FailureCode.MERGE_CONFLICT, 'The worktree has unresolved conflicts; nothing was committed.');
  }
  const tree = (await gitOrThrow(['write-tree'], options, 'Writing the tree')).trim();
  const parent = (await gitOrThrow(['rev-parse', '--verify', 'HEAD'], options, 'Reading HEAD')).trim();
  const parentTree = (await gitOrThrow(['rev-parse', '--verify', 'HEAD^{tree}'], options, 'Reading HEAD')).trim();
  if (tree === parentTree) {
    throw permanent(FailureCode.NO_DIFF, 'The patch changes nothing on the base commit; there is nothing to commit.');
  }
  const stamp = gitDate(input.date);
  const { name, email } = input.author;
  const env = {
    GIT_AUTHOR_NAME: name,
    GIT_AUTHOR_EMAIL: email,
    GIT_AUTHOR_DATE: stamp,
    GIT_COMMITTER_NAME: name,
    GIT_COMMITTER_EMAIL: email,
    GIT_COMMITTER_DATE: stamp,
  };
  const message = input.message.endsWith('\n') ? input.message : `${input.message}\n`;
  const sha = (
    await gitOrThrow(['commit-tree', tree, '-p', parent, '--no-gpg-sign'], { ...options, env, input: message }, 'Creating the commit')
  ).trim();
  await gitOrThrow(['update-ref', '--no-deref', '-m', 'spec-chain commit', 'HEAD', sha, parent], options, 'Moving HEAD');
  return sha;
}

/** git's raw date form (`@<seconds> +0000`): no time zone or locale of the worker can change it. */
function gitDate(date: Date | string): string {
  const ms = (date instanceof Date ? date : new Date(date)).getTime();
  if (Number.isNaN(ms)) throw new TypeError(`"${String(date)}" is not a date.`);
  return `@${Math.floor(ms / 1000)} +0000`;
}
