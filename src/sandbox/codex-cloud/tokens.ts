import { randomBytes } from 'node:crypto';

// The emulator's sign-in authority: it issues JWT-shaped ChatGPT tokens and Codex access tokens,
// knows which are live, and rotates refresh tokens the way auth.openai.com does (a used refresh
// token is dead, so a second refresh with it fails).

export interface EmulatorAccount {
  id: string;
  userId: string;
  email: string;
  planType: string;
}

/** The `tokens` of a ChatGPT auth.json. */
export interface IssuedLogin {
  id_token: string;
  access_token: string;
  refresh_token: string;
  account_id: string;
}

export type RefreshFailure = 'refresh_token_reused' | 'refresh_token_expired' | 'refresh_token_invalidated';

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const hex = (bytes: number) => randomBytes(bytes).toString('hex');

export class TokenAuthority {
  private readonly access = new Map<string, { exp: number; revoked: boolean }>();
  private readonly refreshTokens = new Map<string, 'live' | 'used' | 'expired'>();
  private readonly personal = new Map<string, { revoked: boolean }>();
  refreshCount = 0;

  constructor(
    readonly account: EmulatorAccount,
    private readonly issuer: string,
    private readonly ttlSeconds: number,
  ) {}

  private jwt(claims: Record<string, unknown>): string {
    return `${base64url({ alg: 'RS256', typ: 'JWT', kid: 'sandbox' })}.${base64url(claims)}.${randomBytes(32).toString('base64url')}`;
  }

  /** A fresh sign-in, as `codex login` would store it. `ttlSeconds` may be negative for an already expired token. */
  issueLogin(ttlSeconds = this.ttlSeconds): IssuedLogin {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + ttlSeconds;
    const auth = {
      chatgpt_account_id: this.account.id,
      chatgpt_plan_type: this.account.planType,
      chatgpt_user_id: this.account.userId,
    };
    const accessToken = this.jwt({
      iss: this.issuer,
      aud: ['https://api.openai.com/v1'],
      sub: this.account.userId,
      iat: now,
      exp,
      jti: hex(8),
      'https://api.openai.com/auth': auth,
      'https://api.openai.com/profile': { email: this.account.email },
    });
    const idToken = this.jwt({ iss: this.issuer, aud: 'app_EMoamEEZ73f0CkXaXp7hrann', sub: this.account.userId, iat: now, exp, email: this.account.email, 'https://api.openai.com/auth': auth });
    const refreshToken = `rt_${hex(24)}`;
    this.access.set(accessToken, { exp, revoked: false });
    this.refreshTokens.set(refreshToken, 'live');
    return { id_token: idToken, access_token: accessToken, refresh_token: refreshToken, account_id: this.account.id };
  }

  /** A Codex personal access token (`at-…`). */
  issueAccessToken(): string {
    const token = `at-${hex(24)}`;
    this.personal.set(token, { revoked: false });
    return token;
  }

  /** Exchanges a live refresh token for new tokens; the old refresh token dies. */
  refresh(refreshToken: string): IssuedLogin | RefreshFailure {
    const state = this.refreshTokens.get(refreshToken);
    if (state === undefined) return 'refresh_token_invalidated';
    if (state === 'used') return 'refresh_token_reused';
    if (state === 'expired') return 'refresh_token_expired';
    this.refreshTokens.set(refreshToken, 'used');
    this.refreshCount += 1;
    return this.issueLogin();
  }

  /** The account a bearer token acts for, or why it is refused. */
  verify(token: string): { accountId: string } | { refused: string } {
    const personal = this.personal.get(token);
    if (personal) return personal.revoked ? { refused: 'access token expired' } : { accountId: this.account.id };
    const issued = this.access.get(token);
    if (!issued) return { refused: 'unknown access token' };
    if (issued.revoked || issued.exp * 1000 <= Date.now()) return { refused: 'access token expired' };
    return { accountId: this.account.id };
  }

  /** Ends every access token issued so far (and the refresh tokens too, when asked). */
  expireAll(refreshTokens = false): void {
    for (const token of this.access.values()) token.revoked = true;
    for (const token of this.personal.values()) token.revoked = true;
    if (refreshTokens) for (const key of this.refreshTokens.keys()) this.refreshTokens.set(key, 'expired');
  }
}
