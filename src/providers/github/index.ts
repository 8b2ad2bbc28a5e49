import { readSecret } from '../secrets.js';
import { ProviderError } from '../errors.js';
import { checkAccess, type AccessIssue } from './access.js';
import { closePullRequest, upsertPullRequest, type PullRequestRef, type UpsertPullRequestInput } from './pull-requests.js';
import { deleteBranch, ensureBranch, type EnsureBranchInput } from './refs.js';
import { phaseBranches, type PhaseBranch } from './phase-branches.js';
import { getRepositoryState, type PullRequestSummary, type RepoState } from './repository-state.js';
import { createSend, type GitHubConnection } from './request.js';

export type { AccessIssue, EnsureBranchInput, GitHubConnection, PhaseBranch, PullRequestRef, PullRequestSummary, RepoState, UpsertPullRequestInput };
export { DOCUMENTS } from './documents.js';

/** What the chain asks of GitHub. */
export interface GitHub {
  getRepositoryState(input: { repository: string; branch: string; signal?: AbortSignal }): Promise<RepoState>;
  upsertPullRequest(input: UpsertPullRequestInput): Promise<PullRequestRef>;
  /** Preflight: problems with the token for these repositories (none when it can publish to all). */
  checkAccess(repositories: readonly string[], signal?: AbortSignal): Promise<AccessIssue[]>;
  ensureBranch(input: EnsureBranchInput): Promise<{ created: boolean; updated: boolean }>;
  closePullRequest(input: { pullRequestId: string; comment: string; signal?: AbortSignal }): Promise<void>;
  deleteBranch(input: { repository: string; branch: string; oid: string; signal?: AbortSignal }): Promise<boolean>;
  /** Which of these branches exist, their heads and their open pull requests, in one request. */
  phaseBranches(input: { repository: string; branches: readonly string[]; signal?: AbortSignal }): Promise<PhaseBranch[]>;
}

/** A GitHub GraphQL client for one token. */
export function createGitHub(connection: GitHubConnection): GitHub {
  const send = createSend(connection);
  return {
    getRepositoryState: (input) => getRepositoryState(send, input),
    upsertPullRequest: (input) => upsertPullRequest(send, input),
    checkAccess: (repositories, signal) => checkAccess(send, connection.tokenRef ?? 'the GitHub token', repositories, signal),
    ensureBranch: (input) => ensureBranch(send, input),
    closePullRequest: (input) => closePullRequest(send, input),
    deleteBranch: (input) => deleteBranch(send, input),
    phaseBranches: (input) => phaseBranches(send, input),
  };
}

/**
 * Preflight from a secret reference: reads the token (a missing one is an issue, not an exception)
 * and checks it against each repository.
 */
export async function checkGitHubAccess(input: {
  baseUrl?: string;
  tokenRef: string;
  repositories: readonly string[];
  signal?: AbortSignal;
}): Promise<AccessIssue[]> {
  let token: string;
  try {
    token = await readSecret(input.tokenRef);
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    return [{ ref: input.tokenRef, code: error.code, message: error.message }];
  }
  return createGitHub({ baseUrl: input.baseUrl, token, tokenRef: input.tokenRef }).checkAccess(input.repositories, input.signal);
}
