import { createAppAuth } from '@octokit/auth-app';
import { request as octokitRequest } from '@octokit/request';
import { FailureCode, FailureKind } from '../../interfaces.js';
import { credentials, permanent, ProviderError, transient } from '../errors.js';
import { parseRepository } from '../git/repository.js';
import { readSecret } from '../secrets.js';
import type { AccessIssue } from './access.js';
import { processTokenCache, type TokenCache } from './app-tokens.js';
import { REPOSITORY_ACCESS } from './documents.js';
import { createSend } from './request.js';

/** A credential set's GitHub App: its id, its installation (or none: looked up from the repository) and its key. */
export interface AppCredentials {
  appId: string;
  installationId: string | null;
  /** `env:` / `file:` reference to the App's private key (PEM). */
  privateKeyRef: string;
}

/** An installation access token and when GitHub said it expires. */
export interface InstallationToken {
  token: string;
  expiresAt: Date;
}

/** The installation tokens of one App for one repository, minted when needed and shared while they last. */
export interface AppTokens {
  /** A token with at least the refresh margin left: the cached one, or one minted now (once, however many ask). */
  token(signal?: AbortSignal): Promise<string>;
  /** GitHub refused `token` (revoked, installation removed): drop it so the next use mints another. */
  forget(token: string): Promise<void>;
  /**
   * Preflight: the App installed on the repository with contents and pull requests write, and a token
   * that works there. A kept token GitHub refuses is dropped; with `replaceRefused` (validation, a retry)
   * another is minted, without it (a step under way) the refusal is the issue: revoked mid-run.
   */
  check(signal?: AbortSignal, options?: { replaceRefused?: boolean }): Promise<AccessIssue[]>;
  /** What GitHub's limits are counted by: the installation (every token of it alike). */
  limitsKey(): Promise<string>;
}

/** Permissions publishing needs from the installation, as GitHub names them. */
const NEEDED = { contents: 'write', pull_requests: 'write' } as const;

/** Refresh a cached token when less than this is left (GitHub's tokens last an hour). */
export const DEFAULT_REFRESH_MARGIN_MS = 5 * 60_000;

const installations = new Map<string, string>();

/**
 * Installation tokens of a GitHub App for `repository`, minted with @octokit/auth-app from the private
 * key (read each time it is needed, never kept) and kept in `cache` (this process's, or the one every
 * worker shares in PostgreSQL). The installation is the configured one, or GitHub's answer to
 * GET /repos/{owner}/{repo}/installation, asked once per process.
 */
export function createAppTokens(input: {
  baseUrl: string;
  app: AppCredentials;
  repository: string;
  cache?: TokenCache;
  refreshMarginMs?: number;
}): AppTokens {
  const { app, repository } = input;
  const baseUrl = input.baseUrl.replace(/\/+$/, '');
  const cache = input.cache ?? processTokenCache;
  const margin = input.refreshMarginMs ?? DEFAULT_REFRESH_MARGIN_MS;
  const ref = app.privateKeyRef;
  const request = octokitRequest.defaults({ baseUrl });

  const auth = async () => {
    const privateKey = await readSecret(ref);
    return { privateKey, auth: createAppAuth({ appId: app.appId, privateKey, request }) };
  };
  /** The App's own JWT, for the endpoints that take one. A key that does not sign is a CREDENTIALS error. */
  const jwt = async (): Promise<string> => {
    const { auth: appAuth } = await auth();
    try {
      return (await appAuth({ type: 'app' })).token;
    } catch (error) {
      throw credentials(
        FailureCode.CREDENTIALS_INVALID,
        `The private key in ${ref} cannot sign a JWT for GitHub App ${app.appId}: it is not an RSA private key in PEM form. Generate a private key in the App's settings and store it there.`,
        { secretRef: ref, details: { reason: error instanceof Error ? error.message.replace(/\[[^\]]*\]\s*/, '') : String(error) } },
      );
    }
  };

  /** GitHub's installation of the App on the repository: its id and permissions. */
  const lookUp = async (signal?: AbortSignal): Promise<{ id: string; permissions: Record<string, string> }> => {
    const { owner, name } = parseRepository(repository);
    const token = await jwt();
    try {
      const answer = await request('GET /repos/{owner}/{repo}/installation', {
        owner,
        repo: name,
        headers: { authorization: `bearer ${token}` },
        request: { signal },
      });
      const data = answer.data as { id: number; permissions?: Record<string, string> };
      return { id: String(data.id), permissions: data.permissions ?? {} };
    } catch (error) {
      throw classifyAppError(error, app, repository, 'looking up its installation');
    }
  };

  const installationId = async (signal?: AbortSignal): Promise<string> => {
    if (app.installationId) return app.installationId;
    const key = `${baseUrl}\n${app.appId}\n${repository.toLowerCase()}`;
    let id = installations.get(key);
    if (!id) installations.set(key, (id = (await lookUp(signal)).id));
    return id;
  };

  const cacheKey = async (signal?: AbortSignal) => `${baseUrl}\napp ${app.appId}\ninstallation ${await installationId(signal)}`;

  const mint = async (signal?: AbortSignal): Promise<InstallationToken> => {
    const id = await installationId(signal);
    await jwt(); // a key that cannot sign says so here, not as a failed request
    const { auth: appAuth } = await auth();
    try {
      const minted = await appAuth({ type: 'installation', installationId: id, refresh: true, request: { signal } });
      return { token: minted.token, expiresAt: new Date(minted.expiresAt) };
    } catch (error) {
      throw classifyAppError(error, app, repository, `minting a token for installation ${id}`);
    }
  };

  return {
    token: async (signal) => {
      const key = await cacheKey(signal);
      const privateKey = await readSecret(ref);
      return (await cache.get(key, privateKey, margin, () => mint(signal))).token;
    },
    forget: async (token) => cache.forget(await cacheKey(), await readSecret(ref), token),
    limitsKey: async () => `app:${baseUrl}:${app.appId}:${await installationId()}`,
    check: async (signal, options = {}) => {
      let installation: { id: string; permissions: Record<string, string> };
      try {
        installation = await lookUp(signal);
      } catch (error) {
        return [issueOf(error)];
      }
      if (app.installationId && app.installationId !== installation.id) {
        return [
          {
            ref,
            code: FailureCode.GITHUB_APP_NOT_INSTALLED,
            message: `GitHub App ${app.appId} is installed on ${repository} as installation ${installation.id}, not as installation ${app.installationId} that the credential set names: correct the installation id (or leave it empty to look it up).`,
          },
        ];
      }
      const missing = Object.entries(NEEDED).filter(([name]) => installation.permissions[name] !== 'write');
      if (missing.length) {
        const has = missing.map(([name]) => `${name}: ${installation.permissions[name] ?? 'none'}`).join(', ');
        return [
          {
            ref,
            code: FailureCode.PERMISSION_DENIED,
            message: `GitHub App ${app.appId}'s installation on ${repository} lacks ${missing.map(([name]) => `${name}: write`).join(' and ')} (it has ${has}): grant it in the App's permissions and accept the change in the installation.`,
          },
        ];
      }
      // The token must work there too: one kept since GitHub revoked it is dropped and another minted.
      const key = `${baseUrl}\napp ${app.appId}\ninstallation ${installation.id}`;
      try {
        for (let tries = 0; ; tries++) {
          const privateKey = await readSecret(ref);
          const { token } = await cache.get(key, privateKey, margin, () => mint(signal));
          try {
            const { owner, name } = parseRepository(repository);
            await createSend({ baseUrl, token, tokenRef: ref })(REPOSITORY_ACCESS, { owner, name }, signal);
            return [];
          } catch (error) {
            const refused = error instanceof ProviderError && error.kind === FailureKind.CREDENTIALS && error.code !== FailureCode.PERMISSION_DENIED;
            if (!refused || tries > 0) throw error;
            await cache.forget(key, privateKey, token);
            if (!options.replaceRefused) return [{ ref, code: FailureCode.CREDENTIALS_INVALID, message: revokedMessage(app, repository) }];
          }
        }
      } catch (error) {
        return [issueOf(error)];
      }
    },
  };

  function issueOf(error: unknown): AccessIssue {
    if (!(error instanceof ProviderError) || error.kind === FailureKind.TRANSIENT) throw error;
    return { ref, code: error.code, message: error.message };
  }
}

/** What a refused installation token means, and what to do. */
export function revokedMessage(app: AppCredentials, repository: string): string {
  return (
    `GitHub refused the installation token of GitHub App ${app.appId} (minted with the key in ${app.privateKeyRef}) on ${repository}: ` +
    'it was revoked, or the App was uninstalled or suspended there. Check the App is installed with contents and pull requests write; a RESUME mints a new token.'
  );
}

/** What GitHub's answer to an App request means for the chain, naming the key's reference; never the JWT or a token. */
function classifyAppError(error: unknown, app: AppCredentials, repository: string, doing: string): ProviderError {
  if (error instanceof ProviderError) return error;
  const ref = app.privateKeyRef;
  const status = (error as { status?: number }).status;
  const said = (error as { response?: { data?: { message?: unknown } } }).response?.data?.message;
  const text = typeof said === 'string' ? ` ("${said}")` : '';
  const details = { status, operation: doing };
  if (status === 401) {
    return credentials(
      FailureCode.CREDENTIALS_INVALID,
      `GitHub refused the JWT of GitHub App ${app.appId} while ${doing}${text}: the key in ${ref} is not this App's, or the App id is wrong. Generate a private key in the App's settings, store it there, and check the App id.`,
      { secretRef: ref, details },
    );
  }
  if (status === 404) {
    return credentials(
      FailureCode.GITHUB_APP_NOT_INSTALLED,
      `GitHub App ${app.appId} (key in ${ref}) is not installed on ${repository}${app.installationId ? ` as installation ${app.installationId}` : ''} (${doing}): install it there, or add the repository to its installation.`,
      { secretRef: ref, details },
    );
  }
  if (status === 403 || status === 422) {
    return credentials(
      FailureCode.PERMISSION_DENIED,
      `GitHub refused ${doing} for GitHub App ${app.appId} (key in ${ref}) on ${repository}${text}: the installation may be suspended or lack the permissions asked. Check the App's installation settings.`,
      { secretRef: ref, details },
    );
  }
  if (status === undefined || status >= 500 || status === 429) {
    const message = error instanceof Error ? error.message : String(error);
    return transient(FailureCode.SERVICE_UNAVAILABLE, `GitHub could not be reached while ${doing} for App ${app.appId}: ${message}`, { details });
  }
  return permanent(FailureCode.GITHUB_REJECTED, `GitHub refused ${doing} for App ${app.appId} (HTTP ${status})${text}.`, { details });
}
