import { FailureCode, FailureKind } from '../../interfaces.js';
import { credentials, ProviderError } from '../errors.js';
import { readSecret } from '../secrets.js';
import { createAppTokens, revokedMessage, type AppCredentials, type AppTokens } from './app.js';
import type { TokenCache } from './app-tokens.js';

/** The GitHub fields of a credential set: a token, or an App. */
export interface GitHubCredentialFields {
  githubTokenRef: string | null;
  githubAppId: string | null;
  githubAppInstallationId: string | null;
  githubAppPrivateKeyRef: string | null;
}

/** What GitHub calls authenticate with, for one repository: a token from a secret, or an App's installation tokens. */
export interface GitHubCredential {
  /** The secret reference a failure names: the token's, or the App private key's. */
  ref: string;
  /** Null for a token. */
  app: AppTokens | null;
  /** The token to send now (an App's is minted or refreshed as needed). */
  token(signal?: AbortSignal): Promise<string>;
  /** What GitHub counts limits by: the token, or the App's installation. */
  limitsKey(token: string): Promise<string>;
  /**
   * GitHub answered 401 to `token`: an App's installation token was revoked or the installation removed
   * or suspended. The token is dropped (a RESUME mints another) and the failure says so; a plain token's
   * failure is passed on as it is.
   */
  refused(token: string, error: ProviderError): Promise<ProviderError>;
}

export function appOf(fields: GitHubCredentialFields): AppCredentials | null {
  if (!fields.githubAppId || !fields.githubAppPrivateKeyRef) return null;
  return { appId: fields.githubAppId, installationId: fields.githubAppInstallationId, privateKeyRef: fields.githubAppPrivateKeyRef };
}

export function githubCredential(
  fields: GitHubCredentialFields,
  options: { baseUrl: string; repository: string; cache?: TokenCache; refreshMarginMs?: number },
): GitHubCredential {
  const app = appOf(fields);
  if (!app) {
    const ref = fields.githubTokenRef ?? '';
    return { ref, app: null, token: () => readSecret(ref), limitsKey: async (token) => token, refused: async (_token, error) => error };
  }
  const tokens = createAppTokens({ baseUrl: options.baseUrl, app, repository: options.repository, cache: options.cache, refreshMarginMs: options.refreshMarginMs });
  return {
    ref: app.privateKeyRef,
    app: tokens,
    token: (signal) => tokens.token(signal),
    limitsKey: () => tokens.limitsKey(),
    refused: async (token, error) => {
      if (error.kind !== FailureKind.CREDENTIALS || (error.code !== FailureCode.CREDENTIALS_INVALID && error.code !== FailureCode.CREDENTIALS_EXPIRED)) return error;
      await tokens.forget(token);
      return credentials(FailureCode.CREDENTIALS_INVALID, revokedMessage(app, options.repository), {
        secretRef: app.privateKeyRef,
        service: error.service,
        details: error.details,
      });
    },
  };
}
