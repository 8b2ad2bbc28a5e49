import { FailureCode } from '../../interfaces.js';
import { permanent, ProviderError } from '../errors.js';
import type { GitAuth } from './auth.js';
import { isValidBranchName } from './branch-name.js';
import { openCache, type CachedRepository, type GitContext } from './cache.js';
import { classifyRemoteFailure } from './classify.js';

export interface PushInput {
  /** `owner/name`; the commit must be in this machine's cache of it. */
  repository: string;
  branch: string;
  sha: string;
  /** Where the remote branch must be now for the push to go ahead; null: it must not exist. */
  expectedRemoteSha: string | null;
  auth?: GitAuth;
  signal?: AbortSignal;
}

export interface PushResult {
  branch: string;
  sha: string;
  /** False when the remote already held `sha` (a repeat of a push that had succeeded). */
  updated: boolean;
}

const SHA = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

/**
 * Publishes the commit `sha` as `refs/heads/<branch>` in one atomic push, by id, from the cache: no
 * checkout, no local branch. The lease makes a repeat of the same phase move our own branch while
 * refusing to overwrite a change someone else pushed meanwhile. `push.negotiate` finds the commits the
 * remote already has even when its branches moved past what this cache knows, so the pack holds only
 * the new objects (without it, git would send, and first fetch, every blob of the history).
 * Failures: refused token CREDENTIALS, unreachable remote TRANSIENT, refused update PERMANENT PUSH_REJECTED.
 */
export async function pushCommit(ctx: GitContext, input: PushInput): Promise<PushResult> {
  const { branch, sha, expectedRemoteSha, signal } = input;
  if (!isValidBranchName(branch)) throw permanent(FailureCode.PUSH_REJECTED, `"${branch}" is not a valid branch name.`);
  if (!SHA.test(sha) || (expectedRemoteSha !== null && !SHA.test(expectedRemoteSha))) {
    throw permanent(FailureCode.PUSH_REJECTED, 'The commit to push and the expected remote commit must be full commit ids.');
  }
  const { repository } = input;
  const repo = await openCache(ctx, repository, input.auth, signal);
  const held = await repo.objects.info(sha);
  if (held.missing || held.type !== 'commit') {
    throw permanent(FailureCode.INTERNAL, `Commit ${sha} is not in this machine's cache of ${repository}; re-create it before pushing.`);
  }
  const ref = `refs/heads/${branch}`;
  const pushed = await repo.git([
    '-c',
    'push.negotiate=true',
    'push',
    '--atomic',
    '--porcelain',
    '--no-verify',
    `--force-with-lease=${ref}:${expectedRemoteSha ?? ''}`,
    'origin',
    `${sha}:${ref}`,
  ]);
  if (pushed.code === 0) return { branch, sha, updated: !/^=\t/m.test(pushed.stdout) };

  const failure = classifyRemoteFailure(`Pushing ${ref} to ${repository}`, pushed.output, {
    secretRef: input.auth?.secretRef,
    fallback: FailureCode.PUSH_REJECTED,
  });
  if (failure.code !== FailureCode.PUSH_REJECTED) throw failure;
  const remoteSha = await remoteBranchSha(repo, ref);
  if (remoteSha === sha) return { branch, sha, updated: false };
  // The lease held, so the remote refused for its own reasons (a hook, a protected branch): say what it said.
  if (remoteSha === expectedRemoteSha) throw failure;
  throw new ProviderError(
    failure.kind,
    failure.code,
    `${repository} refused ${ref}: the remote branch is at ${remoteSha ?? '(none)'} but ${expectedRemoteSha ?? '(none)'} was expected, ` +
      'so another change reached it first and was left alone.',
    { details: { ...failure.details, remoteSha, expectedRemoteSha } },
  );
}

async function remoteBranchSha(repo: CachedRepository, ref: string): Promise<string | null> {
  const listed = await repo.git(['ls-remote', '--heads', 'origin', ref]);
  if (listed.code !== 0) return null;
  const line = listed.stdout.split('\n').find((l) => l.endsWith(`\t${ref}`));
  return line ? line.slice(0, line.indexOf('\t')) : null;
}
