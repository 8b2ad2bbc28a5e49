import { GraphqlResponseError } from '@octokit/graphql';
import { FailureCode } from '../../interfaces.js';
import { credentials, permanent, ProviderError, transient } from '../errors.js';

/** Response headers, lower-cased, as octokit hands them over. */
export type ResponseHeaders = Record<string, string | number | undefined>;

export interface GraphQLErrorEntry {
  type?: string;
  path?: (string | number)[];
  message?: string;
}

const DEFAULT_WAIT_MS = 60_000;

/**
 * How long GitHub asks us to wait: `retry-after` (seconds or an HTTP date), else until
 * `x-ratelimit-reset` when nothing remains, else undefined.
 */
export function requestedWaitMs(headers: ResponseHeaders, now = Date.now()): number | undefined {
  const retryAfter = headers['retry-after'];
  if (retryAfter !== undefined && retryAfter !== '') {
    const seconds = Number(retryAfter);
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(String(retryAfter)) - now;
    if (Number.isFinite(ms)) return Math.max(1000, ms);
  }
  if (String(headers['x-ratelimit-remaining']) === '0' && headers['x-ratelimit-reset'] !== undefined) {
    const reset = Number(headers['x-ratelimit-reset']) * 1000;
    if (Number.isFinite(reset)) return Math.max(1000, reset - now);
  }
  return undefined;
}

interface HttpErrorLike {
  status: number;
  response?: { headers?: ResponseHeaders; data?: unknown };
}

const isHttpError = (e: unknown): e is HttpErrorLike =>
  typeof e === 'object' && e !== null && (e as { name?: string }).name === 'HttpError' && typeof (e as HttpErrorLike).status === 'number';

/**
 * Turns what octokit threw into the chain's error kinds. GraphQL errors are told apart by `type`,
 * never by their text; rate limits carry the wait GitHub asked for in `retryAfterMs`.
 * `redact` removes the token from any text GitHub sent back before it reaches a message.
 */
export function classifyGitHubError(
  error: unknown,
  context: { operation: string; tokenRef?: string; redact: (text: string) => string },
): ProviderError {
  const { operation, tokenRef, redact } = context;
  if (error instanceof GraphqlResponseError) {
    const entries = (error.errors ?? []) as GraphQLErrorEntry[];
    const types = entries.map((e) => e.type ?? 'UNKNOWN');
    const text = redact(entries.map((e) => `${e.type ?? 'ERROR'}: ${e.message ?? ''}`).join('; '));
    const details = { errorTypes: types, paths: entries.map((e) => e.path ?? []), operation };
    const message = `GitHub refused ${operation}: ${text}`;
    if (types.some((t) => t === 'RATE_LIMITED' || t === 'RATE_LIMIT')) {
      const retryAfterMs = requestedWaitMs(error.headers as ResponseHeaders) ?? DEFAULT_WAIT_MS;
      return transient(FailureCode.RATE_LIMITED, `GitHub rate limit reached during ${operation}; waiting ${Math.ceil(retryAfterMs / 1000)} s.`, {
        retryAfterMs,
        details,
      });
    }
    if (types.includes('FORBIDDEN')) return credentials(FailureCode.PERMISSION_DENIED, message, { secretRef: tokenRef, details });
    // GitHub's INTERNAL is its own failure while executing (often a timeout): worth another attempt.
    if (types.every((t) => t === 'INTERNAL')) return transient(FailureCode.SERVICE_UNAVAILABLE, message, { details });
    return permanent(FailureCode.GITHUB_REJECTED, message, { details });
  }

  if (isHttpError(error)) {
    const headers = error.response?.headers ?? {};
    const status = error.status;
    const data = error.response?.data as { message?: unknown; documentation_url?: unknown } | undefined;
    const said = typeof data?.message === 'string' ? `: ${redact(data.message)}` : '';
    const details = { status, operation };
    if (status === 401) {
      const expiry = Date.parse(String(headers['github-authentication-token-expiration'] ?? '').replace(' UTC', 'Z').replace(' ', 'T'));
      const expired = Number.isFinite(expiry) && expiry <= Date.now();
      return credentials(
        expired ? FailureCode.CREDENTIALS_EXPIRED : FailureCode.CREDENTIALS_INVALID,
        `GitHub rejected the token (HTTP 401${said}) during ${operation}.`,
        { secretRef: tokenRef, details },
      );
    }
    const wait = requestedWaitMs(headers);
    const secondaryLimit = typeof data?.documentation_url === 'string' && data.documentation_url.includes('secondary-rate-limits');
    if ((status === 403 || status === 429) && (wait !== undefined || secondaryLimit || status === 429)) {
      const retryAfterMs = wait ?? DEFAULT_WAIT_MS;
      return transient(FailureCode.RATE_LIMITED, `GitHub rate limit reached (HTTP ${status}) during ${operation}; waiting ${Math.ceil(retryAfterMs / 1000)} s.`, {
        retryAfterMs,
        details,
      });
    }
    if (status === 403) {
      return credentials(FailureCode.PERMISSION_DENIED, `GitHub refused ${operation} (HTTP 403${said}).`, { secretRef: tokenRef, details });
    }
    // octokit reports a request that got no answer at all (refused, reset, timed out) as status 500 without a response.
    if (status >= 500 || !error.response) {
      const what = error.response ? `HTTP ${status}${said}` : `no answer: ${redact(String((error as unknown as Error).message))}`;
      return transient(FailureCode.SERVICE_UNAVAILABLE, `GitHub is unavailable (${what}) during ${operation}.`, { details, retryAfterMs: wait });
    }
    return permanent(FailureCode.GITHUB_REJECTED, `GitHub refused ${operation} (HTTP ${status}${said}).`, { details });
  }

  const message = redact(error instanceof Error ? error.message : String(error));
  return transient(FailureCode.SERVICE_UNAVAILABLE, `GitHub could not be reached during ${operation}: ${message}`, { details: { operation } });
}

/** Whether a classified GitHub error carried this GraphQL error type. */
export function hasErrorType(error: unknown, type: string): error is ProviderError {
  return error instanceof ProviderError && Array.isArray(error.details.errorTypes) && error.details.errorTypes.includes(type);
}
