import { readSecret } from '../secrets.js';
import type { TokenCache } from './app-tokens.js';
import { commitOnBranch, type CommitOnBranchInput, type CommitOnBranchResult } from './commit.js';
import { appOf, githubCredential, type GitHubCredentialFields } from './credential.js';
import { ProviderError } from '../errors.js';
import { checkAccess, type AccessIssue } from './access.js';
import { closePullRequest, upsertPullRequest, type PullRequestRef, type UpsertPullRequestInput } from './pull-requests.js';
import { deleteBranch, ensureBranch, type EnsureBranchInput } from './refs.js';
import { phaseBranches, type PhaseBranch } from './phase-branches.js';
import { getRepositoryState, type PullRequestSummary, type RepoState } from './repository-state.js';
import { createSend, type GitHubConnection } from './request.js';

export type { CommitOnBranchInput, CommitOnBranchResult, GitHubCredentialFields };
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
  /** The phase commit made by GitHub (signed) from whole files, on a branch created or reset at its parent. */
  commitOnBranch(input: CommitOnBranchInput): Promise<CommitOnBranchResult>;
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
    commitOnBranch: (input) => commitOnBranch(send, input),
  };
}

/**
 * Preflight of a credential set's GitHub credential: a token is read (a missing one is an issue, not an
 * exception) and checked against each repository; an App must be installed on each with contents and
 * pull requests write, and mint a token there.
 */
export async function checkGitHubAccess(input: {
  baseUrl?: string;
  credential: GitHubCredentialFields;
  repositories: readonly string[];
  appTokens?: TokenCache;
  signal?: AbortSignal;
}): Promise<AccessIssue[]> {
  const baseUrl = input.baseUrl ?? 'https://api.github.com';
  if (appOf(input.credential)) {
    const issues: AccessIssue[] = [];
    for (const repository of input.repositories) {
      const credential = githubCredential(input.credential, { baseUrl, repository, cache: input.appTokens });
      try {
        issues.push(...(await credential.app!.check(input.signal, { replaceRefused: true })));
      } catch (error) {
        if (!(error instanceof ProviderError) || error.kind === 'TRANSIENT') throw error;
        issues.push({ ref: credential.ref, code: error.code, message: error.message });
      }
    }
    return issues;
  }
  const tokenRef = input.credential.githubTokenRef ?? '';
  let token: string;
  try {
    token = await readSecret(tokenRef);
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    return [{ ref: tokenRef, code: error.code, message: error.message }];
  }
  return createGitHub({ baseUrl, token, tokenRef }).checkAccess(input.repositories, input.signal);
}
