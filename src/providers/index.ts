import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config.js';
import type { CredentialSet } from '../entities/index.js';
import { createCodexCloudClient, type CodexCloud } from './codex-cloud/index.js';
import { createGit, type Git, type GitAuth } from './git/index.js';
import { createGitHub, type AccessIssue, type GitHub, type PhaseBranch, type RepoState, type UpsertPullRequestInput, type PullRequestRef } from './github/index.js';
import type { TokenLimits } from './github/request.js';
import { CommitVia } from '../interfaces.js';
import { ProviderError } from './errors.js';
import type { TokenCache } from './github/app-tokens.js';
import type { CommitOnBranchInput, CommitOnBranchResult } from './github/commit.js';
import { githubCredential } from './github/credential.js';

/**
 * The outside services as one run sees them, bound to its credential set. Secrets are read when a call
 * needs them, never before, and never stored. Real services and the sandbox emulators differ only in the
 * base URLs of the configuration.
 */
export interface Providers {
  codex: CodexCloud;
  git: Git;
  github: {
    checkAccess(repository: string, signal?: AbortSignal): Promise<AccessIssue[]>;
    getRepositoryState(input: { repository: string; branch: string }, signal?: AbortSignal): Promise<RepoState>;
    upsertPullRequest(input: Omit<UpsertPullRequestInput, 'signal'>, signal?: AbortSignal): Promise<PullRequestRef>;
    closePullRequest(input: { pullRequestId: string; comment: string }, signal?: AbortSignal): Promise<void>;
    deleteBranch(input: { repository: string; branch: string; oid: string }, signal?: AbortSignal): Promise<boolean>;
    phaseBranches(input: { repository: string; branches: readonly string[] }, signal?: AbortSignal): Promise<PhaseBranch[]>;
    /** createCommitOnBranch of a change onto a branch (see github/commit.ts). */
    commitOnBranch(input: Omit<CommitOnBranchInput, 'signal'>, signal?: AbortSignal): Promise<CommitOnBranchResult>;
  };
  /** How publish makes the commit, and whether it may push with git what the API cannot express. */
  commitVia: CommitVia;
  commitFallbackToGit: boolean;
  /** The GitHub token for git over HTTPS (read or minted now; a missing secret is a CREDENTIALS error naming it). */
  gitAuth(signal?: AbortSignal): Promise<GitAuth>;
  branchUrl(repository: string, branch: string): string;
}

/** Data folders whose run checkouts (made before git worked without them) were removed by this process. */
const swept = new Set<string>();

export function createProviders(
  config: Config,
  credentialSet: CredentialSet,
  options: {
    githubLimits?: (baseUrl: string, key: string) => TokenLimits;
    /** Where a GitHub App's installation tokens are shared (this process only by default). */
    appTokens?: TokenCache;
    /** The run's repository: a GitHub App's installation is looked up from it. */
    repository?: string;
  } = {},
): Providers {
  if (!swept.has(config.dataDir)) {
    swept.add(config.dataDir);
    void rm(join(config.dataDir, 'worktrees'), { recursive: true, force: true }).catch(() => {});
  }
  const credential = githubCredential(credentialSet, {
    baseUrl: config.githubApiUrl,
    repository: options.repository ?? credentialSet.repositories[0] ?? '',
    cache: options.appTokens,
    refreshMarginMs: config.githubAppTokenRefreshMarginMs,
  });
  let github: { token: string; client: GitHub } | undefined;
  /** A client for the current token: an App's token changes when it is refreshed, and so does the client. */
  const connect = async (signal?: AbortSignal): Promise<{ token: string; client: GitHub }> => {
    const token = await credential.token(signal);
    if (github?.token === token) return github;
    const key = await credential.limitsKey(token);
    const client = createGitHub({
      baseUrl: config.githubApiUrl,
      token,
      tokenRef: credential.ref,
      limitsKey: key,
      mutationIntervalMs: config.githubMutationIntervalMs,
      ...(options.githubLimits ? { limits: options.githubLimits(config.githubApiUrl, key) } : {}),
    });
    github = { token, client };
    return github;
  };
  const call = async <T>(signal: AbortSignal | undefined, fn: (client: GitHub) => Promise<T>): Promise<T> => {
    const { token, client } = await connect(signal);
    try {
      return await fn(client);
    } catch (error) {
      throw error instanceof ProviderError ? await credential.refused(token, error) : error;
    }
  };
  const webBase = config.gitBaseUrl.startsWith('file:') ? config.githubApiUrl : config.gitBaseUrl;
  return {
    codex: createCodexCloudClient({ authRef: credentialSet.codexAuthRef, baseUrl: config.codexBaseUrl, authUrl: config.codexAuthUrl }),
    git: createGit({ cacheDir: join(config.dataDir, 'git-cache'), gitBaseUrl: config.gitBaseUrl, author: config.gitAuthor }),
    github: {
      checkAccess: async (repository, signal) =>
        credential.app ? credential.app.check(signal) : call(signal, (client) => client.checkAccess([repository], signal)),
      getRepositoryState: (input, signal) => call(signal, (client) => client.getRepositoryState({ ...input, signal })),
      upsertPullRequest: (input, signal) => call(signal, (client) => client.upsertPullRequest({ ...input, signal })),
      closePullRequest: (input, signal) => call(signal, (client) => client.closePullRequest({ ...input, signal })),
      deleteBranch: (input, signal) => call(signal, (client) => client.deleteBranch({ ...input, signal })),
      phaseBranches: (input, signal) => call(signal, (client) => client.phaseBranches({ ...input, signal })),
      commitOnBranch: (input, signal) => call(signal, (client) => client.commitOnBranch({ ...input, signal })),
    },
    commitVia: credentialSet.commitVia ?? CommitVia.GIT,
    commitFallbackToGit: credentialSet.commitFallbackToGit ?? false,
    gitAuth: async (signal) => ({ token: await credential.token(signal), secretRef: credential.ref }),
    branchUrl: (repository, branch) => `${webBase}/${repository}/tree/${encodeURIComponent(branch).replace(/%2F/g, '/')}`,
  };
}
