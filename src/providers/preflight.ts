import type { Config } from '../config.js';
import { githubSecretRef, type CredentialIssue, type CredentialSet } from '../entities/CredentialSet.js';
import type { TokenCache } from './github/app-tokens.js';
import type { Logger } from '../log.js';
import { checkCodexAccess } from './codex-cloud/index.js';
import { ProviderError } from './errors.js';
import { checkGitHubAccess } from './github/index.js';

/**
 * Preflight of a credential set for a repository: Codex auth present and current (or refreshable) and the
 * environment found; the GitHub token valid, the repository visible, permission at least WRITE (or the GitHub App installed
 * there with contents and pull requests write, and minting a token). Each
 * issue names the reference to fix. An outage is not an issue of the credentials: it is reported as one
 * with code SERVICE_UNAVAILABLE so the caller can tell the two apart.
 */
export async function checkCredentials(
  config: Config,
  credentialSet: CredentialSet,
  scope: { repository: string | null; environment: string | null; codex: boolean; github: boolean },
  log: Logger,
  signal?: AbortSignal,
  /** Where a GitHub App's installation tokens are shared (this process only by default). */
  appTokens?: TokenCache,
): Promise<CredentialIssue[]> {
  const outage = (service: string, ref: string) => (error: unknown): CredentialIssue[] => {
    if (!(error instanceof ProviderError)) throw error;
    log.warn({ service, code: error.code }, 'preflight could not reach the service');
    return [{ ref, code: error.code, message: `${service} could not be checked: ${error.message}` }];
  };
  const checks: Promise<CredentialIssue[]>[] = [];
  const repositories = scope.repository ? [scope.repository] : credentialSet.repositories;
  if (scope.codex) {
    checks.push(
      checkCodexAccess({
        ref: credentialSet.codexAuthRef,
        environment: scope.environment ?? credentialSet.codexEnvironment,
        repository: repositories[0] ?? '',
        baseUrl: config.codexBaseUrl,
        authUrl: config.codexAuthUrl,
        signal,
      }).catch(outage('Codex Cloud', credentialSet.codexAuthRef)),
    );
  }
  if (scope.github) {
    checks.push(
      checkGitHubAccess({ baseUrl: config.githubApiUrl, credential: credentialSet, repositories, appTokens, signal }).catch(
        outage('GitHub', githubSecretRef(credentialSet)),
      ),
    );
  }
  return (await Promise.all(checks)).flat();
}
