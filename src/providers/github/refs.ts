import { FailureCode } from '../../interfaces.js';
import { permanent } from '../errors.js';
import { hasErrorType } from './classify.js';
import { CREATE_REF, DELETE_REF, UPDATE_REF } from './documents.js';
import type { Send } from './request.js';
import { getRepositoryState } from './repository-state.js';

export interface EnsureBranchInput {
  repository: string;
  branch: string;
  oid: string;
  /** Allow moving the branch to a commit that does not descend from its current one. */
  force?: boolean;
  signal?: AbortSignal;
}

/**
 * Points `refs/heads/<branch>` at `oid` through the API (createRef, or updateRef when it exists), for
 * callers that publish commits without pushing with git. The commit must already be on GitHub.
 */
export async function ensureBranch(send: Send, input: EnsureBranchInput): Promise<{ created: boolean; updated: boolean }> {
  const state = await getRepositoryState(send, { repository: input.repository, branch: input.branch, signal: input.signal });
  if (state.branch?.oid === input.oid) return { created: false, updated: false };
  if (state.branch) {
    await send(UPDATE_REF, { refId: state.branch.id, oid: input.oid, force: input.force ?? false }, input.signal);
    return { created: false, updated: true };
  }
  try {
    await send(CREATE_REF, { repositoryId: state.id, name: `refs/heads/${input.branch}`, oid: input.oid }, input.signal);
    return { created: true, updated: false };
  } catch (error) {
    // Someone created it meanwhile: fine if it is already where we want it.
    if (!hasErrorType(error, 'UNPROCESSABLE')) throw error;
    const again = await getRepositoryState(send, { repository: input.repository, branch: input.branch, signal: input.signal });
    if (again.branch?.oid === input.oid) return { created: false, updated: false };
    throw permanent(FailureCode.GITHUB_REJECTED, `${input.repository} already has ${input.branch} at ${again.branch?.oid ?? 'an unknown commit'}.`, {
      details: error.details,
    });
  }
}

/** Deletes `refs/heads/<branch>` if it is still at `oid` (never a branch someone moved since). Returns whether it did. */
export async function deleteBranch(send: Send, input: { repository: string; branch: string; oid: string; signal?: AbortSignal }): Promise<boolean> {
  const state = await getRepositoryState(send, { repository: input.repository, branch: input.branch, signal: input.signal });
  if (!state.branch || state.branch.oid !== input.oid) return false;
  await send(DELETE_REF, { refId: state.branch.id }, input.signal);
  return true;
}
