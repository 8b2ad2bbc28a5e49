import { createPublicKey, randomBytes, verify, type KeyObject } from 'node:crypto';
import type { Permission } from './graph.js';

/** A GitHub App as the emulator knows it: its public key (GitHub keeps only that) and its installations. */
export interface EmulatorApp {
  /** PEM of the App's public key: JWTs signed with its private key are accepted. */
  publicKey: string;
  slug: string;
  installations: EmulatorInstallation[];
}

export interface EmulatorInstallation {
  id: number;
  /** The account the App is installed on. */
  account: string;
  /** `owner/name` repositories selected; every repository of `account` when absent. */
  repositories?: string[];
  /** As GitHub names them: `{ contents: 'write', pull_requests: 'write', metadata: 'read' }`. */
  permissions: Record<string, string>;
}

/** A minted installation token, as the GraphQL and git sides of the emulator see the caller. */
export interface InstallationTokenAccount {
  login: string;
  permission: Permission;
  repositories?: string[];
  appId: string;
  installationId: number;
  expiresAt: number;
}

/** What a request to an App endpoint is answered (GitHub's status and body). */
export type AppAnswer = { status: number; body: unknown };

const DOCS = 'https://docs.github.com/rest';
const HOUR = 3600_000;

/**
 * The GitHub App side of the emulator: JWTs checked as GitHub checks them (RS256, signed by the App's
 * key, `iss` the App id, issued no later than a minute from now, expiring in the future and at most ten
 * minutes after issue), installation tokens that expire, and what an installation may see and do.
 */
export class AppRegistry {
  private readonly keys = new Map<string, KeyObject>();
  private readonly tokens = new Map<string, InstallationTokenAccount>();
  /** Every token minted, oldest first: the installation and when (never the token). */
  readonly minted: { appId: string; installationId: number; at: number; expiresAt: number }[] = [];
  /** The token values minted, for tests that look for a leak (the emulator is GitHub's side: it knows them). */
  readonly issued: string[] = [];

  constructor(
    private readonly apps: Record<string, EmulatorApp>,
    /** How long a minted token lasts (GitHub: one hour). */
    public tokenTtlMs = HOUR,
  ) {
    for (const [id, app] of Object.entries(apps)) this.keys.set(id, createPublicKey(app.publicKey));
  }

  /** The account of a minted token still valid, or undefined (unknown, expired or revoked). */
  account(token: string): InstallationTokenAccount | undefined {
    const account = this.tokens.get(token);
    if (!account) return undefined;
    if (account.expiresAt <= Date.now()) {
      this.tokens.delete(token);
      return undefined;
    }
    return account;
  }

  /** Makes every minted token expire now (GitHub's token revocation, or an hour passed). */
  expireTokens(): number {
    const count = this.tokens.size;
    this.tokens.clear();
    return count;
  }

  /** Removes an installation (the App uninstalled): its tokens stop working at once. */
  uninstall(appId: string, installationId: number): void {
    const app = this.apps[appId];
    if (app) app.installations = app.installations.filter((i) => i.id !== installationId);
    for (const [token, account] of this.tokens) if (account.appId === appId && account.installationId === installationId) this.tokens.delete(token);
  }

  /** `POST /app/installations/{id}/access_tokens`. */
  mint(authorization: string | undefined, installationId: number): AppAnswer {
    const caller = this.verifyJwt(authorization);
    if ('status' in caller) return caller;
    const app = this.apps[caller.appId]!;
    const installation = app.installations.find((i) => i.id === installationId);
    if (!installation) return { status: 404, body: { message: 'Not Found', documentation_url: `${DOCS}/apps/apps#create-an-installation-access-token-for-an-app`, status: '404' } };
    const token = `ghs_${randomBytes(18).toString('base64url')}`;
    const expiresAt = Date.now() + this.tokenTtlMs;
    const write = installation.permissions.contents === 'write' && installation.permissions.pull_requests === 'write';
    this.tokens.set(token, {
      login: `${app.slug}[bot]`,
      permission: write ? 'WRITE' : 'READ',
      repositories: installation.repositories,
      appId: caller.appId,
      installationId,
      expiresAt,
    });
    this.minted.push({ appId: caller.appId, installationId, at: Date.now(), expiresAt });
    this.issued.push(token);
    return {
      status: 201,
      body: {
        token,
        expires_at: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        permissions: installation.permissions,
        repository_selection: installation.repositories ? 'selected' : 'all',
      },
    };
  }

  /** `GET /repos/{owner}/{repo}/installation`: the calling App's installation that covers the repository. */
  installationFor(authorization: string | undefined, repository: string, exists: boolean): AppAnswer {
    const caller = this.verifyJwt(authorization);
    if ('status' in caller) return caller;
    const app = this.apps[caller.appId]!;
    const [owner = ''] = repository.split('/');
    const installation = exists
      ? app.installations.find(
          (i) => i.account.toLowerCase() === owner.toLowerCase() && (!i.repositories || i.repositories.some((r) => r.toLowerCase() === repository.toLowerCase())),
        )
      : undefined;
    if (!installation) {
      return { status: 404, body: { message: 'Not Found', documentation_url: `${DOCS}/apps/apps#get-a-repository-installation-for-the-authenticated-app`, status: '404' } };
    }
    return {
      status: 200,
      body: {
        id: installation.id,
        account: { login: installation.account, type: 'Organization' },
        app_id: Number(caller.appId),
        app_slug: app.slug,
        target_type: 'Organization',
        permissions: installation.permissions,
        repository_selection: installation.repositories ? 'selected' : 'all',
        events: [],
        created_at: new Date(0).toISOString(),
        updated_at: new Date(0).toISOString(),
        suspended_at: null,
      },
    };
  }

  private verifyJwt(authorization: string | undefined): { appId: string } | AppAnswer {
    const refuse = (message: string): AppAnswer => ({ status: 401, body: { message, documentation_url: DOCS, status: '401' } });
    const jwt = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    if (!jwt) return refuse('A JSON web token could not be decoded');
    const [head, body, signature] = jwt.split('.');
    let header: { alg?: string };
    let claims: { iss?: unknown; iat?: unknown; exp?: unknown };
    try {
      header = JSON.parse(Buffer.from(head ?? '', 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(body ?? '', 'base64url').toString('utf8'));
    } catch {
      return refuse('A JSON web token could not be decoded');
    }
    const appId = String(claims.iss ?? '');
    const key = this.keys.get(appId);
    if (header.alg !== 'RS256' || !key || signature === undefined) return refuse('A JSON web token could not be decoded');
    if (!verify('RSA-SHA256', Buffer.from(`${head}.${body}`), key, Buffer.from(signature, 'base64url'))) {
      return refuse('A JSON web token could not be decoded');
    }
    const now = Math.floor(Date.now() / 1000);
    const iat = Number(claims.iat);
    const exp = Number(claims.exp);
    if (!Number.isFinite(exp) || exp <= now) return refuse("'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires.");
    if (!Number.isFinite(iat) || iat > now + 60) return refuse("'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued.");
    if (exp - iat > 600) return refuse("'Expiration time' claim ('exp') is too far in the future");
    return { appId };
  }
}
