import { createHash, randomBytes } from 'node:crypto';
import type { Role } from '../config.js';

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

export interface Principal {
  role: Role;
  /** The token's hash: lets a long-lived subscription check it has not been revoked. */
  tokenHash: string;
  /** A short, non-reversible label for logs: the first characters of the token's hash. */
  tokenId: string;
}

const digest = (token: string) => createHash('sha256').update(token).digest('hex');

/** Bearer tokens and their roles, kept only as SHA-256 hashes in memory. */
export class TokenStore {
  private readonly byHash = new Map<string, Role>();

  private readonly listeners: (() => void)[] = [];
  /** Hashes of tokens generated at start-up: a reload keeps them. */
  readonly generated: string[] = [];

  constructor(tokens: { role: Role; token: string }[]) {
    for (const { role, token } of tokens) this.byHash.set(digest(token), role);
  }

  get size(): number {
    return this.byHash.size;
  }

  /** Adds a random admin token and returns it: the caller prints it once, it is never stored. */
  generateAdminToken(): string {
    const token = `sc_${randomBytes(24).toString('base64url')}`;
    this.byHash.set(digest(token), 'admin');
    this.generated.push(digest(token));
    return token;
  }

  /** Replaces the configured tokens (a reload); the hashes in `keep` (generated tokens) stay valid. */
  replace(tokens: { role: Role; token: string }[], keep: string[] = []): void {
    const kept = keep.flatMap((hash) => {
      const role = this.byHash.get(hash);
      return role ? [[hash, role] as const] : [];
    });
    this.byHash.clear();
    for (const [hash, role] of kept) this.byHash.set(hash, role);
    for (const { role, token } of tokens) this.byHash.set(digest(token), role);
    for (const listener of this.listeners) listener();
  }

  /** Called after every replace, so long-lived connections can drop revoked tokens. */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** `Bearer <token>` (or the bare token) → the principal, or null when missing or unknown. */
  authenticate(authorization: unknown): Principal | null {
    if (typeof authorization !== 'string') return null;
    const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!m) return null;
    const hash = digest(m[1]!);
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
