/**
 * Removes credentials from text that leaves this folder (error messages, JSONL logs). Known values are
 * replaced exactly; anything shaped like a bearer header, a JWT, a Codex access token, an API key or a
 * refresh token is replaced too, because a response body can echo a credential we never saw.
 */
const SHAPES: RegExp[] = [
  /\bBearer\s+[^\s"',;]+/gi,
  /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g,
  /\b(?:at|sk|rt)[-_][A-Za-z0-9_-]{12,}/g,
];

export function redactSecrets(text: string, known: readonly string[] = []): string {
  let out = text;
  for (const secret of known) {
    if (secret.length >= 8) out = out.split(secret).join('[redacted]');
  }
  for (const shape of SHAPES) out = out.replace(shape, '[redacted]');
  return out;
}
