import { FailureCode } from '../../interfaces.js';
import { credentials, permanent, transient, type ProviderError } from '../errors.js';
import { redactSecrets } from '../redact.js';
import { assertHeaderSafe } from '../secrets.js';

export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
}

/** What a failure is reported against: the operation, and the secret reference an operator would fix. */
export interface FailureContext {
  operation: string;
  secretRef: string;
  /** Credential values to scrub from anything quoted back. */
  known: readonly string[];
}

const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * One HTTP exchange through the global fetch. The caller's signal cancels it (its reason is thrown
 * as is, so a cancelled run is told apart from a failure); a network error or a timeout is TRANSIENT.
 */
export async function exchange(
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
  context: FailureContext,
  signal?: AbortSignal,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<HttpAnswer> {
  signal?.throwIfAborted();
  assertHeaderSafe(init.headers, context.secretRef, 'Codex Cloud');
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const response = await fetch(url, { ...init, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    return { status: response.status, headers: response.headers, text: await response.text() };
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    const why = timeout.aborted ? `no answer within ${Math.round(timeoutMs / 1000)} s` : networkCause(error);
    throw transient(FailureCode.SERVICE_UNAVAILABLE, `${context.operation}: could not reach Codex Cloud (${why}).`, {
      cause: error,
      details: { operation: context.operation },
    });
  }
}

function networkCause(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return error instanceof Error ? error.message : 'network error';
}

/** `retry-after` as milliseconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The service's own words from an error body (`detail`, `error.message`, `message`), redacted and short. */
function reason(text: string, known: readonly string[]): string {
  let said = text;
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    const error = body.error as Record<string, unknown> | string | undefined;
    const candidate =
      (typeof body.detail === 'string' && body.detail) ||
      (typeof error === 'string' && error) ||
      (error && typeof error === 'object' && typeof error.message === 'string' && error.message) ||
      (typeof body.message === 'string' && body.message) ||
      (typeof body.error_description === 'string' && body.error_description);
    if (candidate) said = candidate;
  } catch {
    // Not JSON (a proxy's HTML page): quote the start of it.
  }
  said = redactSecrets(said.replace(/\s+/g, ' ').trim(), known);
  return said.length > 300 ? `${said.slice(0, 300)}…` : said;
}

/** Classifies a non-2xx answer: the one place the client's status-to-failure rules live. */
export function failureFromAnswer(answer: HttpAnswer, context: FailureContext): ProviderError {
  const { status } = answer;
  const said = reason(answer.text, context.known);
  const tail = said ? `: ${said}` : '';
  const details = { status, operation: context.operation };
  const retryAfterMs = parseRetryAfter(answer.headers.get('retry-after'));
  if (status === 401 || status === 403) {
    return credentials(
      FailureCode.CREDENTIALS_INVALID,
      `${context.operation}: Codex Cloud refused the credentials in ${context.secretRef} (HTTP ${status})${tail}. ` +
        'Sign in again (`codex login`) and store the new auth.json there, or store a new Codex access token (at-…).',
      { secretRef: context.secretRef, details },
    );
  }
  if (status === 429) {
    return transient(FailureCode.RATE_LIMITED, `${context.operation}: Codex Cloud is rate limiting (HTTP 429)${tail}.`, {
      retryAfterMs,
      details,
    });
  }
  if (status >= 500 || status === 408) {
    return transient(FailureCode.SERVICE_UNAVAILABLE, `${context.operation}: Codex Cloud answered HTTP ${status}${tail}.`, {
      retryAfterMs,
      details,
    });
  }
  return permanent(FailureCode.CODEX_REQUEST_REJECTED, `${context.operation}: Codex Cloud rejected the request (HTTP ${status})${tail}.`, {
    details,
  });
}

/** Parses a 2xx body; a body that is not JSON (a login or proxy page) is a passing fault, not data. */
export function parseJson(answer: HttpAnswer, context: FailureContext): unknown {
  try {
    return JSON.parse(answer.text);
  } catch {
    throw transient(
      FailureCode.SERVICE_UNAVAILABLE,
      `${context.operation}: Codex Cloud answered HTTP ${answer.status} with a body that is not JSON (${answer.headers.get('content-type') ?? 'no content type'}).`,
      { details: { status: answer.status, operation: context.operation } },
    );
  }
}
