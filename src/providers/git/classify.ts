import { FailureCode } from '../../interfaces.js';
import { credentials, permanent, transient, type ProviderError } from '../errors.js';

// git reports remote failures only as text (LC_ALL=C is forced, so the wording is stable).
const UNAUTHENTICATED = /Authentication failed|could not read (?:Username|Password)|terminal prompts disabled|returned error: 401|Invalid username or password/i;
const FORBIDDEN = /returned error: 403|Permission to \S+ denied|denied to \S+|Write access to repository not granted/i;
const NETWORK =
  /Could not resolve host|Failed to connect|Connection refused|Connection reset|Connection timed out|Operation timed out|timed out after|RPC failed|early EOF|unexpected disconnect|remote end hung up unexpectedly|returned error: 5\d\d|SSL (?:certificate|connect)|OpenSSL|gnutls|TLS connection|Empty reply from server|transfer closed/i;
const NOT_FOUND = /Repository not found|repository '[^']*' not found|does not appear to be a git repository|returned error: 404/i;
// Checked before NETWORK: an atomic push that is refused also says "the remote end hung up unexpectedly".
const REJECTED = /\[rejected\]|\[remote rejected\]|stale info|non-fast-forward|fetch first|atomic push failed/i;

/**
 * Turns a failed remote git operation (fetch, push, ls-remote) into the chain's error kinds:
 * a refused token is CREDENTIALS, an unreachable remote TRANSIENT, a refused update PERMANENT.
 * `output` is already redacted.
 */
export function classifyRemoteFailure(
  what: string,
  output: string,
  options: { secretRef?: string; fallback: FailureCode },
): ProviderError {
  const message = `${what} failed: ${lastLines(output)}`;
  const details = { gitOutput: output };
  if (UNAUTHENTICATED.test(output)) {
    return credentials(FailureCode.CREDENTIALS_INVALID, message, { secretRef: options.secretRef, details });
  }
  if (FORBIDDEN.test(output)) {
    return credentials(FailureCode.PERMISSION_DENIED, message, { secretRef: options.secretRef, details });
  }
  if (REJECTED.test(output)) return permanent(FailureCode.PUSH_REJECTED, message, { details });
  if (NETWORK.test(output)) return transient(FailureCode.SERVICE_UNAVAILABLE, message, { details });
  if (NOT_FOUND.test(output)) return permanent(FailureCode.REPOSITORY_UNAVAILABLE, message, { details });
  return permanent(options.fallback, message, { details });
}

/** The end of git's output, where it says what went wrong, kept short for a message. */
export function lastLines(output: string, count = 4): string {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.slice(-count).join(' | ') || '(no output)';
}
