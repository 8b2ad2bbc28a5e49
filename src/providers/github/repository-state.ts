import { FailureCode } from '../../interfaces.js';
import { permanent, type ProviderError } from '../errors.js';
import { hasErrorType } from './classify.js';
import { parseRepository } from '../git/repository.js';
import { REPO_STATE } from './documents.js';
import type { Send } from './request.js';

export interface PullRequestSummary {
  id: string;
  number: number;
  url: string;
  title: string;
  body: string;
  state: string;
  isDraft: boolean;
  baseRefName: string;
  headRefName: string;
  headRefOid: string;
  /** `owner/name` of the head branch's repository (a fork's PR can share a branch name). */
  headRepository: string | null;
}

/** What publishing needs to know about a repository before it changes anything. */
export interface RepoState {
  id: string;
  nameWithOwner: string;
  viewerPermission: string | null;
  defaultBranch: { name: string; oid: string | null } | null;
  /** The branch asked about, when it exists. */
  branch: { id: string; name: string; oid: string | null } | null;
  /** Open pull requests whose head branch has that name. */
  openPullRequests: PullRequestSummary[];
  rateLimit: { cost: number; remaining: number; resetAt: string } | null;
}

interface RepoStateData {
  repository: {
    id: string;
    nameWithOwner: string;
    viewerPermission: string | null;
    defaultBranchRef: { name: string; target: { oid?: string } | null } | null;
    ref: { id: string; name: string; target: { oid?: string } | null } | null;
    pullRequests: { nodes: (Omit<PullRequestSummary, 'headRepository'> & { headRepository: { nameWithOwner: string } | null })[] };
  } | null;
  rateLimit: RepoState['rateLimit'];
}

/** Reads RepoState; a repository GitHub cannot find (or the token cannot see) is PERMANENT REPOSITORY_UNAVAILABLE. */
export async function getRepositoryState(send: Send, input: { repository: string; branch: string; signal?: AbortSignal }): Promise<RepoState> {
  const { owner, name } = parseRepository(input.repository);
  let data: RepoStateData;
  try {
    data = await send<RepoStateData>(
      REPO_STATE,
      { owner, name, qualifiedName: `refs/heads/${input.branch}`, headRefName: input.branch },
      input.signal,
    );
  } catch (error) {
    throw notFoundAsUnavailable(error, input.repository);
  }
  const repo = data.repository;
  if (!repo) throw unavailable(input.repository);
  return {
    id: repo.id,
    nameWithOwner: repo.nameWithOwner,
    viewerPermission: repo.viewerPermission,
    defaultBranch: repo.defaultBranchRef && { name: repo.defaultBranchRef.name, oid: repo.defaultBranchRef.target?.oid ?? null },
    branch: repo.ref && { id: repo.ref.id, name: repo.ref.name, oid: repo.ref.target?.oid ?? null },
    openPullRequests: repo.pullRequests.nodes.filter(Boolean).map((pr) => ({ ...pr, body: pr.body ?? '', headRepository: pr.headRepository?.nameWithOwner ?? null })),
    rateLimit: data.rateLimit,
  };
}

function unavailable(repository: string, cause?: ProviderError) {
  return permanent(
    FailureCode.REPOSITORY_UNAVAILABLE,
    `GitHub cannot find ${repository}, or the token cannot see it.`,
    cause ? { details: cause.details } : {},
  );
}

/** GitHub answers NOT_FOUND both for a missing repository and for one the token may not see. */
export function notFoundAsUnavailable(error: unknown, repository: string): unknown {
  return hasErrorType(error, 'NOT_FOUND') ? unavailable(repository, error) : error;
}
