import { FailureCode } from '../../interfaces.js';
import { permanent, ProviderError } from '../errors.js';
import { gitAuth, type GitAuth } from './auth.js';
import { isValidBranchName } from './branch-name.js';
import { ensureCache, type GitContext } from './cache.js';
import { classifyRemoteFailure } from './classify.js';
import { runGit, type GitRunOptions } from './exec.js';
import { remoteUrl } from './repository.js';
import { repositoryOfWorktree } from './worktree.js';

export interface PushInput {
  /** `owner/name`; may be left out when `worktreePath` is given (it is known from the worktree). */
  repository?: string;
  /** Push from this worktree; without it, from the repository's cache (the commit must be there). */
  worktreePath?: string;
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
 * Publishes `sha` as `refs/heads/<branch>` in one atomic push. The lease makes a repeat of the same
 * phase move our own branch while refusing to overwrite a change someone else pushed meanwhile.
 * Failures: refused token CREDENTIALS, unreachable remote TRANSIENT, refused update PERMANENT PUSH_REJECTED.
 */
export async function pushBranch(ctx: GitContext, input: PushInput): Promise<PushResult> {
  const { branch, sha, expectedRemoteSha, signal } = input;
  if (!isValidBranchName(branch)) throw permanent(FailureCode.PUSH_REJECTED, `"${branch}" is not a valid branch name.`);
  if (!SHA.test(sha) || (expectedRemoteSha !== null && !SHA.test(expectedRemoteSha))) {
    throw permanent(FailureCode.PUSH_REJECTED, 'The commit to push and the expected remote commit must be full commit ids.');
  }
  if (input.repository === undefined && input.worktreePath === undefined) {
    throw permanent(FailureCode.INTERNAL, 'pushBranch needs a repository or a worktree to push from.');
  }
  const repository = input.repository ?? (await repositoryOfWorktree(ctx, input.worktreePath!));
  const cwd = input.worktreePath ?? (await ensureCache(ctx, repository, signal));
  const { env, secrets } = gitAuth(ctx.gitBaseUrl, input.auth);
  const options: GitRunOptions = { cwd, bin: ctx.bin, env, secrets, signal };
  const url = remoteUrl(ctx.gitBaseUrl, repository);
  const ref = `refs/heads/${branch}`;
  const pushed = await runGit(
    ['push', '--atomic', '--porcelain', '--no-verify', `--force-with-lease=${ref}:${expectedRemoteSha ?? ''}`, url, `${sha}:${ref}`],
    options,
  );
  if (pushed.code === 0) return { branch, sha, updated: !/^=\t/m.test(pushed.stdout) };

  const failure = classifyRemoteFailure(`Pushing ${ref} to ${repository}`, pushed.output, {
    secretRef: input.auth?.secretRef,
    fallback: FailureCode.PUSH_REJECTED,
  });
  if (failure.code !== FailureCode.PUSH_REJECTED) throw failure;
  const remoteSha = await remoteBranchSha(url, ref, options);
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

async function remoteBranchSha(url: string, ref: string, options: GitRunOptions): Promise<string | null> {
  const listed = await runGit(['ls-remote', '--heads', url, ref], options);
  if (listed.code !== 0) return null;
  const line = listed.stdout.split('\n').find((l) => l.endsWith(`\t${ref}`));
  return line ? line.slice(0, line.indexOf('\t')) : null;
}
