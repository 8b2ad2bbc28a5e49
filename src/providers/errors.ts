import { FailureCode, FailureKind, type Service } from '../interfaces.js';
import { redactDeep, redactSecrets } from './redact.js';

/** A cause as the log may show it: its name, code and redacted message, not the object that may hold a secret. */
function redactedCause(cause: unknown): Error {
  const error = new Error(redactSecrets(cause instanceof Error ? cause.message : String(cause)));
  error.name = cause instanceof Error ? cause.name : 'Error';
  const code = (cause as { code?: unknown } | null)?.code;
  if (typeof code === 'string') Object.assign(error, { code });
  error.stack = `${error.name}: ${error.message}`;
  return error;
}

/**
 * The one error type providers throw. The chain runner decides from `kind` whether to retry in place
 * (TRANSIENT, after `retryAfterMs` when the service asked for a wait), halt for a secret (CREDENTIALS,
 * `secretRef` names the reference to fix) or fail for good (PERMANENT).
 * A message never contains a secret value: message, details and cause are redacted here, where every
 * provider error is made.
 */
export class ProviderError extends Error {
  readonly kind: FailureKind;
  readonly code: FailureCode;
  readonly retryAfterMs: number | undefined;
  readonly secretRef: string | undefined;
  /** The service whose credential failed (a CREDENTIALS failure's remediation names it). */
  readonly service: Service | undefined;
  /** Extra facts for the operator (HTTP status, GitHub error type, ...), never a secret. */
  readonly details: Record<string, unknown>;

  constructor(
    kind: FailureKind,
    code: FailureCode,
    message: string,
    options: { retryAfterMs?: number; secretRef?: string; service?: Service; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(redactSecrets(message), options.cause === undefined ? undefined : { cause: options.cause instanceof ProviderError ? options.cause : redactedCause(options.cause) });
    this.name = 'ProviderError';
    this.kind = kind;
    this.code = code;
    this.retryAfterMs = options.retryAfterMs;
    this.secretRef = options.secretRef;
    this.service = options.service;
    this.details = redactDeep(options.details ?? {});
  }
}

export const transient = (code: FailureCode, message: string, options?: ConstructorParameters<typeof ProviderError>[3]) =>
  new ProviderError(FailureKind.TRANSIENT, code, message, options);
export const permanent = (code: FailureCode, message: string, options?: ConstructorParameters<typeof ProviderError>[3]) =>
  new ProviderError(FailureKind.PERMANENT, code, message, options);
export const credentials = (code: FailureCode, message: string, options?: ConstructorParameters<typeof ProviderError>[3]) =>
  new ProviderError(FailureKind.CREDENTIALS, code, message, options);

/** The same failure, said to come from `service` (what its remediation and wait name); anything else is passed on. */
export function ofService(service: Service, error: unknown): unknown {
  if (!(error instanceof ProviderError) || error.service) return error;
  const tagged = new ProviderError(error.kind, error.code, error.message, {
    retryAfterMs: error.retryAfterMs,
    secretRef: error.secretRef,
    service,
    details: error.details,
    cause: error.cause,
  });
  tagged.stack = error.stack;
  return tagged;
}
