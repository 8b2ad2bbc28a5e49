import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config.js';
import type { CredentialSet } from '../entities/index.js';
import { createCodexCloudClient, type CodexCloud } from './codex-cloud/index.js';
import { createGit, type Git, type GitAuth } from './git/index.js';
import { createGitHub, type AccessIssue, type GitHub, type PhaseBranch, type RepoState, type UpsertPullRequestInput, type PullRequestRef } from './github/index.js';
import type { TokenLimits } from './github/request.js';
import { readSecret } from './secrets.js';

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
  };
  /** The GitHub token for git over HTTPS (read now; a missing secret is a CREDENTIALS error naming it). */
  gitAuth(): Promise<GitAuth>;
  branchUrl(repository: string, branch: string): string;
}

/** Data folders whose run checkouts (made before git worked without them) were removed by this process. */
const swept = new Set<string>();

export function createProviders(
  config: Config,
  credentialSet: CredentialSet,
  options: { githubLimits?: (baseUrl: string, token: string) => TokenLimits } = {},
): Providers {
  if (!swept.has(config.dataDir)) {
    swept.add(config.dataDir);
    void rm(join(config.dataDir, 'worktrees'), { recursive: true, force: true }).catch(() => {});
  }
  const tokenRef = credentialSet.githubTokenRef;
  let github: GitHub | undefined;
  const connect = async (): Promise<GitHub> => {
    if (github) return github;
    const token = await readSecret(tokenRef);
    github = createGitHub({
      baseUrl: config.githubApiUrl,
      token,
      tokenRef,
      mutationIntervalMs: config.githubMutationIntervalMs,
      ...(options.githubLimits ? { limits: options.githubLimits(config.githubApiUrl, token) } : {}),
    });
    return github;
  };
  const webBase = config.gitBaseUrl.startsWith('file:') ? config.githubApiUrl : config.gitBaseUrl;
  return {
    codex: createCodexCloudClient({ authRef: credentialSet.codexAuthRef, baseUrl: config.codexBaseUrl, authUrl: config.codexAuthUrl }),
    git: createGit({ cacheDir: join(config.dataDir, 'git-cache'), gitBaseUrl: config.gitBaseUrl, author: config.gitAuthor }),
    github: {
      checkAccess: async (repository, signal) => (await connect()).checkAccess([repository], signal),
      getRepositoryState: async (input, signal) => (await connect()).getRepositoryState({ ...input, signal }),
      upsertPullRequest: async (input, signal) => (await connect()).upsertPullRequest({ ...input, signal }),
      closePullRequest: async (input, signal) => (await connect()).closePullRequest({ ...input, signal }),
      deleteBranch: async (input, signal) => (await connect()).deleteBranch({ ...input, signal }),
      phaseBranches: async (input, signal) => (await connect()).phaseBranches({ ...input, signal }),
    },
    gitAuth: async () => ({ token: await readSecret(tokenRef), secretRef: tokenRef }),
    branchUrl: (repository, branch) => `${webBase}/${repository}/tree/${encodeURIComponent(branch).replace(/%2F/g, '/')}`,
  };
}
