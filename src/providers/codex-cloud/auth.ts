import { FailureCode } from '../../interfaces.js';
import { credentials } from '../errors.js';
import { rememberSecret } from '../redact.js';
import { readSecret, writeSecret, type SecretRef } from '../secrets.js';
import { exchange, failureFromAnswer, parseJson, type FailureContext } from './http.js';

/** The Codex CLI's OAuth client id: refresh tokens issued to it are refreshed by it. */
export const CODEX_CLIENT_ID = 'app_EMoamEEZ73f0CkXaXp7hrann';

export interface CodexCredentials {
  accessToken: string;
  accountId: string;
}

/**
 * Turns one secret reference into working Codex credentials: a ChatGPT `auth.json` (refreshed and
 * written back as its tokens rotate) or a Codex access token `at-…` (account id from whoami).
 */
export interface CodexAuth {
  readonly ref: SecretRef;
  /** Credentials good for the next request, refreshed first when they expire soon. */
  current(signal?: AbortSignal): Promise<CodexCredentials>;
  /** After a 401 for `rejected`: newer credentials, or null when there are none to be had. */
  renew(rejected: CodexCredentials, signal?: AbortSignal): Promise<CodexCredentials | null>;
  /** Every credential value seen so far, so text quoted back from a service can be scrubbed. */
  known(): string[];
}

interface AuthFile {
  auth_mode?: string;
  tokens: { id_token?: string; access_token: string; refresh_token?: string; account_id?: string } & Record<string, unknown>;
  last_refresh?: string;
  [key: string]: unknown;
}

type Secret =
  | { kind: 'chatgpt'; file: AuthFile; accessToken: string; refreshToken: string | null; accountId: string | null }
  | { kind: 'access-token'; token: string };

/** Seconds-since-epoch `exp` of a JWT, as milliseconds; null when the token carries none. */
export function jwtExpiry(token: string): number | null {
  const claims = jwtClaims(token);
  return typeof claims?.exp === 'number' ? claims.exp * 1000 : null;
}

function jwtClaims(token: string | undefined): Record<string, unknown> | null {
  const payload = token?.split('.')[1];
  if (!payload) return null;
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return claims && typeof claims === 'object' ? (claims as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The ChatGPT account id: stored in auth.json, else in the tokens' OpenAI auth claim. */
function accountIdOf(file: AuthFile): string | null {
  if (typeof file.tokens.account_id === 'string' && file.tokens.account_id) return file.tokens.account_id;
  for (const token of [file.tokens.id_token, file.tokens.access_token]) {
    const auth = jwtClaims(token)?.['https://api.openai.com/auth'] as Record<string, unknown> | undefined;
    if (typeof auth?.chatgpt_account_id === 'string') return auth.chatgpt_account_id;
  }
  return null;
}

const HOW_TO_FIX = 'Store a ChatGPT sign-in (the auth.json `codex login` writes) or a Codex access token (at-…) there.';

function parseSecret(raw: string, ref: SecretRef): Secret {
  const text = raw.trim();
  if (text.startsWith('sk-')) {
    throw credentials(
      FailureCode.CREDENTIALS_INVALID,
      `Secret ${ref} holds an OpenAI API key (sk-…), which Codex Cloud refuses: it needs a ChatGPT sign-in. ${HOW_TO_FIX}`,
      { secretRef: ref },
    );
  }
  if (text.startsWith('at-')) return { kind: 'access-token', token: text };
  if (!text.startsWith('{')) {
    throw credentials(FailureCode.CREDENTIALS_INVALID, `Secret ${ref} is neither an auth.json nor a Codex access token. ${HOW_TO_FIX}`, {
      secretRef: ref,
    });
  }
  let file: AuthFile;
  try {
    file = JSON.parse(text) as AuthFile;
  } catch {
    throw credentials(FailureCode.CREDENTIALS_INVALID, `Secret ${ref} looks like JSON but does not parse. ${HOW_TO_FIX}`, { secretRef: ref });
  }
  if (!file || typeof file.tokens?.access_token !== 'string' || file.tokens.access_token === '') {
    const apiKeyOnly = file && typeof file.OPENAI_API_KEY === 'string' && file.OPENAI_API_KEY !== '';
    throw credentials(
      FailureCode.CREDENTIALS_INVALID,
      apiKeyOnly
        ? `Secret ${ref} is an auth.json with only an API key, which Codex Cloud refuses: it needs a ChatGPT sign-in. ${HOW_TO_FIX}`
        : `Secret ${ref} is JSON without tokens.access_token. ${HOW_TO_FIX}`,
      { secretRef: ref },
    );
  }
  return {
    kind: 'chatgpt',
    file,
    accessToken: file.tokens.access_token,
    refreshToken: typeof file.tokens.refresh_token === 'string' && file.tokens.refresh_token ? file.tokens.refresh_token : null,
    accountId: accountIdOf(file),
  };
}

// Refresh tokens rotate, so two refreshes with the same one make the second fail: every refresh of a
// reference in this process runs after the previous one has finished and written its tokens back.
const refreshLocks = new Map<SecretRef, Promise<unknown>>();
// Rotated auth.json text for references that cannot be written (env:NAME), so the next refresh in
// this process still uses the live refresh token.
const unwritableRotations = new Map<SecretRef, string>();

async function withRefreshLock<T>(ref: SecretRef, work: () => Promise<T>): Promise<T> {
  const previous = refreshLocks.get(ref) ?? Promise.resolve();
  const mine = previous.catch(() => undefined).then(work);
  refreshLocks.set(ref, mine);
  try {
    return await mine;
  } finally {
    if (refreshLocks.get(ref) === mine) refreshLocks.delete(ref);
  }
}

export interface CodexAuthOptions {
  ref: SecretRef;
  authUrl: string;
  userAgent: string;
  /** Refresh this long before the access token's `exp`. */
  refreshSkewMs?: number;
}

export function createCodexAuth(options: CodexAuthOptions): CodexAuth {
  const { ref, authUrl, userAgent } = options;
  const skewMs = options.refreshSkewMs ?? 60_000;
  const seen = new Set<string>();
  // Every token of the sign-in, as read or refreshed, is known to the one redaction as well.
  const remember = (token: string) => {
    seen.add(token);
    rememberSecret(token);
  };
  let cached: CodexCredentials | null = null;
  const context = (operation: string): FailureContext => ({ operation, secretRef: ref, known: [...seen] });

  const expiresSoon = (token: string) => {
    const exp = jwtExpiry(token);
    return exp !== null && exp - Date.now() <= skewMs;
  };

  async function load(): Promise<Secret> {
    const secret = parseSecret(unwritableRotations.get(ref) ?? (await readSecret(ref)), ref);
    if (secret.kind === 'chatgpt') {
      remember(secret.accessToken);
      if (secret.refreshToken) remember(secret.refreshToken);
      if (secret.file.tokens.id_token) remember(secret.file.tokens.id_token);
    } else {
      remember(secret.token);
    }
    return secret;
  }

  function adopt(secret: Extract<Secret, { kind: 'chatgpt' }>): CodexCredentials {
    if (!secret.accountId) {
      throw credentials(FailureCode.CREDENTIALS_INVALID, `Secret ${ref} has no ChatGPT account id (tokens.account_id). ${HOW_TO_FIX}`, {
        secretRef: ref,
      });
    }
    cached = { accessToken: secret.accessToken, accountId: secret.accountId };
    return cached;
  }

  async function whoami(token: string, signal?: AbortSignal): Promise<CodexCredentials> {
    const ctx = context('whoami');
    const answer = await exchange(
      `${authUrl}/api/accounts/v1/user-auth-credential/whoami`,
      { method: 'GET', headers: { 'user-agent': userAgent, authorization: `Bearer ${token}`, accept: 'application/json' } },
      ctx,
      signal,
    );
    if (answer.status === 401 || answer.status === 403) {
      throw credentials(
        FailureCode.CREDENTIALS_INVALID,
        `The Codex access token in ${ref} was refused (HTTP ${answer.status}); it may be revoked or expired. Create a new one and store it there.`,
        { secretRef: ref, details: { status: answer.status, operation: ctx.operation } },
      );
    }
    if (answer.status < 200 || answer.status >= 300) throw failureFromAnswer(answer, ctx);
    const body = parseJson(answer, ctx) as { chatgpt_account_id?: unknown };
    if (typeof body.chatgpt_account_id !== 'string' || body.chatgpt_account_id === '') {
      throw credentials(FailureCode.CREDENTIALS_INVALID, `The Codex access token in ${ref} belongs to no ChatGPT account.`, { secretRef: ref });
    }
    cached = { accessToken: token, accountId: body.chatgpt_account_id };
    return cached;
  }

  /** Refreshes unless someone (this process or another) already replaced `staleToken` with a good one. */
  function refresh(staleToken: string, signal?: AbortSignal): Promise<CodexCredentials> {
    return withRefreshLock(ref, async () => {
      const latest = await load();
      if (latest.kind !== 'chatgpt') return whoami(latest.token, signal);
      if (latest.accessToken !== staleToken && !expiresSoon(latest.accessToken)) return adopt(latest);
      if (!latest.refreshToken) {
        throw credentials(FailureCode.CREDENTIALS_EXPIRED, `The ChatGPT sign-in in ${ref} has expired and holds no refresh token. Sign in again (\`codex login\`) and store the new auth.json there.`, {
          secretRef: ref,
        });
      }
      const ctx = context('refresh sign-in');
      const answer = await exchange(
        `${authUrl}/oauth/token`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': userAgent, accept: 'application/json' },
          body: JSON.stringify({
            client_id: CODEX_CLIENT_ID,
            grant_type: 'refresh_token',
            refresh_reason: 'proactive_expiry',
            refresh_token: latest.refreshToken,
          }),
        },
        ctx,
        signal,
      );
      if (answer.status === 400 || answer.status === 401 || answer.status === 403) {
        const cause = failureFromAnswer(answer, ctx);
        throw credentials(
          FailureCode.CREDENTIALS_EXPIRED,
          `The ChatGPT sign-in in ${ref} can no longer be refreshed (HTTP ${answer.status}${refreshErrorCode(answer.text)}). Sign in again (\`codex login\`) and store the new auth.json there.`,
          { secretRef: ref, details: cause.details },
        );
      }
      if (answer.status < 200 || answer.status >= 300) throw failureFromAnswer(answer, ctx);
      const tokens = parseJson(answer, ctx) as { id_token?: unknown; access_token?: unknown; refresh_token?: unknown };
      if (typeof tokens.access_token !== 'string' || tokens.access_token === '') {
        throw credentials(FailureCode.CREDENTIALS_INVALID, `Refreshing the ChatGPT sign-in in ${ref} returned no access token.`, { secretRef: ref });
      }
      for (const token of [tokens.access_token, tokens.id_token, tokens.refresh_token]) if (typeof token === 'string' && token) remember(token);
      const next: AuthFile = {
        ...latest.file,
        tokens: {
          ...latest.file.tokens,
          access_token: tokens.access_token,
          ...(typeof tokens.id_token === 'string' ? { id_token: tokens.id_token } : {}),
          ...(typeof tokens.refresh_token === 'string' ? { refresh_token: tokens.refresh_token } : {}),
        },
        last_refresh: new Date().toISOString(),
      };
      const text = `${JSON.stringify(next, null, 2)}\n`;
      // Keep the rotated tokens in memory when the reference cannot be written, so this process at
      // least keeps working; the spent refresh token left behind is the operator's to replace.
      const written = await writeSecret(ref, text).catch(() => false);
      if (written) unwritableRotations.delete(ref);
      else unwritableRotations.set(ref, text);
      return adopt(parseSecret(text, ref) as Extract<Secret, { kind: 'chatgpt' }>);
    });
  }

  return {
    ref,
    known: () => [...seen],
    async current(signal) {
      if (cached && !expiresSoon(cached.accessToken)) return cached;
      const secret = await load();
      if (secret.kind === 'access-token') return whoami(secret.token, signal);
      return expiresSoon(secret.accessToken) ? refresh(secret.accessToken, signal) : adopt(secret);
    },
    async renew(rejected, signal) {
      cached = null;
      const secret = await load();
      if (secret.kind === 'chatgpt') {
        const next = await refresh(rejected.accessToken, signal);
        return next.accessToken === rejected.accessToken ? null : next;
      }
      // An access token cannot be refreshed; only a replaced one helps.
      return secret.token === rejected.accessToken ? null : whoami(secret.token, signal);
    },
  };
}

function refreshErrorCode(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown };
    const error = body.error as { code?: unknown } | string | undefined;
    const code = typeof error === 'string' ? error : typeof error?.code === 'string' ? error.code : null;
    return code && /^[a-z_]{1,64}$/.test(code) ? `, ${code}` : '';
  } catch {
    return '';
  }
}
