import { hasErrorType } from './classify.js';
import { ADD_COMMENT, CLOSE_PULL_REQUEST, CREATE_PULL_REQUEST, UPDATE_PULL_REQUEST } from './documents.js';
import type { Send } from './request.js';
import { getRepositoryState, type PullRequestSummary } from './repository-state.js';

export interface UpsertPullRequestInput {
  repository: string;
  baseBranch: string;
  headBranch: string;
  title: string;
  body: string;
  /** Only when creating: an existing pull request keeps its draft state. */
  draft?: boolean;
  signal?: AbortSignal;
}

export interface PullRequestRef {
  id: string;
  number: number;
  url: string;
  /** False when an open pull request for the branch already existed (it was updated). */
  created: boolean;
}

interface PullRequestData {
  pullRequest: { id: string; number: number; url: string };
}

/**
 * Opens the pull request for a branch, or updates the open one: a repeat of a phase ends with the same
 * pull request. When a create loses a race ("a pull request already exists", UNPROCESSABLE), the one
 * that won is looked up and updated instead.
 */
export async function upsertPullRequest(send: Send, input: UpsertPullRequestInput): Promise<PullRequestRef> {
  const find = async () => {
    const state = await getRepositoryState(send, { repository: input.repository, branch: input.headBranch, signal: input.signal });
    return { state, existing: ours(state.openPullRequests, input) };
  };
  const { state, existing } = await find();
  if (existing) return update(send, existing, input);
  try {
    const data = await send<{ createPullRequest: PullRequestData }>(
      CREATE_PULL_REQUEST,
      {
        repositoryId: state.id,
        baseRefName: input.baseBranch,
        headRefName: input.headBranch,
        title: input.title,
        body: input.body,
        draft: input.draft ?? false,
      },
      input.signal,
    );
    return { ...data.createPullRequest.pullRequest, created: true };
  } catch (error) {
    if (!hasErrorType(error, 'UNPROCESSABLE')) throw error;
    const again = (await find()).existing;
    if (!again) throw error;
    return update(send, again, input);
  }
}

/**
 * The open pull request from this repository's branch: one per phase branch. One into another base
 * (a stacked phase whose lower phase was merged meanwhile) is moved to the base asked for.
 */
function ours(open: PullRequestSummary[], input: UpsertPullRequestInput): PullRequestSummary | undefined {
  const fromHere = open.filter(
    (pr) => pr.headRefName === input.headBranch && (pr.headRepository === null || pr.headRepository.toLowerCase() === input.repository.toLowerCase()),
  );
  return fromHere.find((pr) => pr.baseRefName === input.baseBranch) ?? fromHere[0];
}

async function update(send: Send, pr: PullRequestSummary, input: UpsertPullRequestInput): Promise<PullRequestRef> {
  const retarget = pr.baseRefName !== input.baseBranch;
  // Nothing to change: spare the mutation (and GitHub's one-second spacing).
  if (!retarget && pr.title === input.title && pr.body === input.body) return { id: pr.id, number: pr.number, url: pr.url, created: false };
  const data = await send<{ updatePullRequest: PullRequestData }>(
    UPDATE_PULL_REQUEST,
    { pullRequestId: pr.id, title: input.title, body: input.body, ...(retarget ? { baseRefName: input.baseBranch } : {}) },
    input.signal,
  );
  return { ...data.updatePullRequest.pullRequest, created: false };
}

/** Closes a pull request, saying why in a comment first (GitHub keeps the comment on the closed pull request). */
export async function closePullRequest(send: Send, input: { pullRequestId: string; comment: string; signal?: AbortSignal }): Promise<void> {
  await send(ADD_COMMENT, { subjectId: input.pullRequestId, body: input.comment }, input.signal);
  await send(CLOSE_PULL_REQUEST, { pullRequestId: input.pullRequestId }, input.signal);
}
