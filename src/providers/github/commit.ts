import { FailureCode } from '../../interfaces.js';
import { permanent } from '../errors.js';
import { parseRepository } from '../git/repository.js';
import { hasErrorType } from './classify.js';
import { BRANCH_HEAD, CREATE_COMMIT_ON_BRANCH, CREATE_REF, UPDATE_REF } from './documents.js';
import type { Send } from './request.js';

export interface CommitOnBranchInput {
  repository: string;
  branch: string;
  /** The commit the new one goes on (it must be on GitHub: the base, or the pull request's head). */
  parentSha: string;
  /**
   * Whether a branch found elsewhere (an earlier run of the same phase) may be moved back to the parent
   * first, as the git path's leased push would replace it. False: it must be at the parent (a revision).
   */
  mayReset: boolean;
  message: string;
  /** A line only this run's commits carry (`spec-chain-run: <id>`): a head with it is this run's commit already. */
  trailer: string;
  additions: { path: string; contents: Buffer }[];
  deletions: string[];
  signal?: AbortSignal;
}

export interface CommitOnBranchResult {
  sha: string;
  tree: string;
  /** False when the branch already held this run's commit (a repeat after a failure). */
  created: boolean;
  /** GitHub's `signature.isValid` of the commit: it signed it, and shows it Verified. */
  verified: boolean;
  branchCreated: boolean;
}

interface Head {
  repositoryId: string;
  ref: { id: string; oid: string; message: string; tree: string; verified: boolean } | null;
}

/**
 * Makes the phase commit on GitHub with createCommitOnBranch (GitHub signs it: Verified under "require
 * signed commits"): the branch created at the parent with createRef when it does not exist, then the
 * files on top with `expectedHeadOid`, so a branch someone else moved is never overwritten. A repeat
 * finds the run's own commit at the head by its trailer and makes no second one.
 */
export async function commitOnBranch(send: Send, input: CommitOnBranchInput): Promise<CommitOnBranchResult> {
  const { repository, branch, parentSha, signal } = input;
  const qualifiedName = `refs/heads/${branch}`;
  const ours = (head: Head) => head.ref !== null && head.ref.message.split('\n').some((line) => line.trim() === input.trailer.trim());
  const found = (head: Head, branchCreated: boolean): CommitOnBranchResult => ({
    sha: head.ref!.oid,
    tree: head.ref!.tree,
    created: false,
    verified: head.ref!.verified,
    branchCreated,
  });

  let head = await readHead(send, repository, qualifiedName, signal);
  if (ours(head)) return found(head, false);
  let branchCreated = false;
  if (!head.ref) {
    try {
      await send(CREATE_REF, { repositoryId: head.repositoryId, name: qualifiedName, oid: parentSha }, signal);
      branchCreated = true;
    } catch (error) {
      if (!hasErrorType(error, 'UNPROCESSABLE')) throw error;
      // Created meanwhile (a repeat whose answer was lost): look at it again below.
      head = await readHead(send, repository, qualifiedName, signal);
      if (ours(head)) return found(head, false);
      if (head.ref?.oid !== parentSha) throw moved(repository, branch, head.ref?.oid ?? null, parentSha);
    }
  } else if (head.ref.oid !== parentSha) {
    if (!input.mayReset) throw moved(repository, branch, head.ref.oid, parentSha);
    await send(UPDATE_REF, { refId: head.ref.id, oid: parentSha, force: true }, signal);
  }

  const [headline = '', ...rest] = input.message.replace(/\n+$/, '').split('\n');
  const body = rest.join('\n').replace(/^\n+/, '');
  try {
    const data = await send<{ createCommitOnBranch: { commit: { oid: string; tree: { oid: string }; signature: { isValid: boolean } | null } } }>(
      CREATE_COMMIT_ON_BRANCH,
      {
        repositoryNameWithOwner: repository,
        branchName: branch,
        expectedHeadOid: parentSha,
        headline,
        body: body || null,
        additions: input.additions.map((file) => ({ path: file.path, contents: file.contents.toString('base64') })),
        deletions: input.deletions.map((path) => ({ path })),
      },
      signal,
    );
    const commit = data.createCommitOnBranch.commit;
    return { sha: commit.oid, tree: commit.tree.oid, created: true, verified: commit.signature?.isValid === true, branchCreated };
  } catch (error) {
    if (!hasErrorType(error, 'STALE_DATA')) throw error;
    head = await readHead(send, repository, qualifiedName, signal);
    if (ours(head)) return found(head, branchCreated);
    throw moved(repository, branch, head.ref?.oid ?? null, parentSha);
  }
}

async function readHead(send: Send, repository: string, qualifiedName: string, signal?: AbortSignal): Promise<Head> {
  const { owner, name } = parseRepository(repository);
  const data = await send<{
    repository: {
      id: string;
      ref: { id: string; target: { oid: string; message?: string; tree?: { oid: string }; signature?: { isValid: boolean } | null } | null } | null;
    } | null;
  }>(BRANCH_HEAD, { owner, name, qualifiedName }, signal);
  if (!data.repository) throw permanent(FailureCode.REPOSITORY_UNAVAILABLE, `GitHub cannot find ${repository}, or the token cannot see it.`);
  const ref = data.repository.ref;
  return {
    repositoryId: data.repository.id,
    ref:
      ref && ref.target
        ? { id: ref.id, oid: ref.target.oid, message: ref.target.message ?? '', tree: ref.target.tree?.oid ?? '', verified: ref.target.signature?.isValid === true }
        : null,
  };
}

function moved(repository: string, branch: string, at: string | null, expected: string) {
  return permanent(
    FailureCode.PUSH_REJECTED,
    `${repository} refused ${branch}: it is at ${at ?? '(none)'} but ${expected} was expected, so another change reached it first and was left alone.`,
    { details: { remoteSha: at, expectedRemoteSha: expected } },
  );
}
