import { FailureCode, FailureKind } from '../../interfaces.js';
import { ProviderError } from '../errors.js';
import { createCodexCloudClient, type CodexCloudClientOptions } from './client.js';
import type { CodexAccessIssue } from './types.js';

export interface CodexAccessCheck extends Omit<CodexCloudClientOptions, 'authRef'> {
  /** The secret reference holding the Codex credentials. */
  ref: string;
  /** Environment id or label. */
  environment: string | null | undefined;
  /** `owner/name` of the GitHub repository the environment should serve. */
  repository: string;
  /** What an environment issue names as the thing to fix (the credential set's field by default). */
  environmentRef?: string;
  signal?: AbortSignal;
}

/**
 * Preflight before a run calls Codex: the credentials are present and current (refreshing them if
 * they are due) and the environment exists unambiguously. Returns the issues found, empty when all is
 * well. A passing outage (TRANSIENT) is thrown instead: it says nothing about the configuration.
 */
export async function checkCodexAccess(check: CodexAccessCheck): Promise<CodexAccessIssue[]> {
  const { ref, environment, repository, environmentRef = 'codexEnvironment', signal, ...clientOptions } = check;
  const client = createCodexCloudClient({ ...clientOptions, authRef: ref });
  const asIssue = (error: unknown, fallbackRef: string): CodexAccessIssue => {
    if (!(error instanceof ProviderError) || error.kind === FailureKind.TRANSIENT) throw error;
    return { ref: error.secretRef ?? fallbackRef, code: error.code, message: error.message };
  };

  try {
    await client.checkCredentials(signal);
  } catch (error) {
    return [asIssue(error, ref)];
  }
  if (!environment || environment.trim() === '') {
    return [
      {
        ref: environmentRef,
        code: FailureCode.CODEX_ENVIRONMENT_NOT_FOUND,
        message: `No Codex environment is set for ${repository}: set ${environmentRef} to the id or label of a Codex Cloud environment for it.`,
      },
    ];
  }
  try {
    await client.resolveEnvironment(repository, environment, signal);
    return [];
  } catch (error) {
    // A credentials failure names its secret; an environment failure names the environment setting.
    return [asIssue(error, environmentRef)];
  }
}
