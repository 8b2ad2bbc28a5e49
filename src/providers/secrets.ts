import { readFile, writeFile, rename } from 'node:fs/promises';
import { FailureCode } from '../interfaces.js';
import { credentials } from './errors.js';
import { rememberSecret } from './redact.js';

/**
 * A credential set stores references to secrets, never the secrets: `env:NAME` (an environment
 * variable of the worker) or `file:/absolute/path` (a mounted file). Values are read only when used.
 */
export type SecretRef = string;

const REF = /^(env):([A-Za-z_][A-Za-z0-9_]*)$|^(file):(\/.+)$/;

export function isSecretRef(ref: string): boolean {
  return REF.test(ref);
}

/** Reads a secret. Missing or empty: a CREDENTIALS error naming the reference, never the value. */
export async function readSecret(ref: SecretRef): Promise<string> {
  const m = REF.exec(ref);
  if (!m) {
    throw credentials(FailureCode.CREDENTIALS_INVALID, `Secret reference "${ref}" is not env:NAME or file:/absolute/path.`, {
      secretRef: ref,
    });
  }
  let value: string | undefined;
  if (m[1] === 'env') {
    value = process.env[m[2]!];
  } else {
    try {
      value = await readFile(m[4]!, 'utf8');
    } catch {
      value = undefined;
    }
  }
  if (value === undefined || value.trim() === '') {
    throw credentials(FailureCode.CREDENTIALS_MISSING, `Secret ${ref} is not set or is empty.`, { secretRef: ref });
  }
  rememberSecret(value);
  return value.trim();
}

/** What an HTTP header value may hold: visible ASCII, space and tab. fetch refuses the rest, quoting the value. */
const HEADER_SAFE = /^[\t\x20-\x7e]*$/;

/** Refuses, before anything is sent, header values a credential made unsendable; the error names the reference only. */
export function assertHeaderSafe(headers: Record<string, string>, ref: SecretRef, service: string): void {
  if (Object.values(headers).every((value) => HEADER_SAFE.test(value))) return;
  throw credentials(
    FailureCode.CREDENTIALS_INVALID,
    `The credential in ${ref} holds a line break, a control character or a non-ASCII character, which cannot be sent to ${service} in an HTTP header. Store it again without them.`,
    { secretRef: ref },
  );
}

/** Writes a rotated secret back where it came from (files only: environment variables cannot be updated). */
export async function writeSecret(ref: SecretRef, value: string): Promise<boolean> {
  const m = REF.exec(ref);
  if (!m || m[3] !== 'file') return false;
  const path = m[4]!;
  // Write then rename, so a reader never sees half a file.
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, value, { mode: 0o600 });
  await rename(tmp, path);
  return true;
}
