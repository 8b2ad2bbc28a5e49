import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ConfigError, parseApiTokens, type Config, type Role } from '../config.js';

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

export interface Principal {
  role: Role;
  /** The token's hash: lets a long-lived subscription check it has not been revoked. */
  tokenHash: string;
  /** A short, non-reversible label for logs: the first characters of the token's hash. */
  tokenId: string;
}

const digest = (token: string) => createHash('sha256').update(token).digest('hex');

/** The token of `Bearer <token>`, or null when the header is missing or of another shape. */
export function bearerToken(authorization: unknown): string | null {
  if (typeof authorization !== 'string') return null;
  return /^\s*Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1] ?? null;
}

/** Bearer tokens and their roles, kept only as SHA-256 hashes in memory. */
export class TokenStore {
  private readonly byHash = new Map<string, Role>();

  private readonly listeners: (() => void)[] = [];
  /** The hash of the local admin token (src/server/local-token.ts), kept apart so a reload keeps or drops it alone. */
  private local: string | null = null;

  constructor(tokens: { role: Role; token: string }[]) {
    for (const { role, token } of tokens) this.byHash.set(digest(token), role);
  }

  get size(): number {
    return this.byHash.size;
  }

  /** Sets (or, with null, revokes) the local admin token kept in the data folder. */
  setLocalAdminToken(token: string | null): void {
    if (this.local) this.byHash.delete(this.local);
    this.local = token === null ? null : digest(token);
    if (this.local) this.byHash.set(this.local, 'admin');
    for (const listener of this.listeners) listener();
  }

  /** Replaces the configured tokens (a reload); the local admin token stays as it is. */
  replace(tokens: { role: Role; token: string }[]): void {
    this.byHash.clear();
    if (this.local) this.byHash.set(this.local, 'admin');
    for (const { role, token } of tokens) this.byHash.set(digest(token), role);
    for (const listener of this.listeners) listener();
  }

  /** Called after every replace, so long-lived connections can drop revoked tokens. */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** `Bearer <token>` (or the bare token) → the principal, or null when missing or unknown. */
  authenticate(authorization: unknown): Principal | null {
    const token = bearerToken(authorization);
    if (!token) return null;
    const hash = digest(token);
    const role = this.byHash.get(hash);
    return role ? { role, tokenHash: hash, tokenId: hash.slice(0, 8) } : null;
  }

  /** Whether a principal is still valid (its token has not been revoked since it connected). */
  stillValid(principal: Principal): boolean {
    return this.byHash.get(principal.tokenHash) === principal.role;
  }
}

export function hasRole(principal: Principal | null | undefined, needed: Role): boolean {
  return !!principal && RANK[principal.role] >= RANK[needed];
}

/**
 * Loads the tokens of API_TOKENS plus those of API_TOKENS_FILE into `tokens`, read now. Called at
 * start-up and on SIGHUP: a token removed from the file is revoked, and its open subscriptions are closed.
 */
export async function loadTokens(tokens: TokenStore, config: Pick<Config, 'apiTokens' | 'apiTokensFile'>): Promise<void> {
  let fromFile: Config['apiTokens'] = [];
  if (config.apiTokensFile) {
    let raw: string;
    try {
      raw = await readFile(config.apiTokensFile, 'utf8');
    } catch (e) {
      throw new ConfigError('API_TOKENS_FILE', `cannot read ${config.apiTokensFile} (${(e as NodeJS.ErrnoException).code ?? 'error'}).`);
    }
    fromFile = parseApiTokens(raw, 'API_TOKENS_FILE');
  }
  tokens.replace([...config.apiTokens, ...fromFile]);
}
