/**
 * The one redaction of secrets, for every provider (Codex, GitHub, git over HTTPS) and every place text
 * leaves the process: error messages (ProviderError redacts its own), stored step messages, artifacts and
 * log lines. Every secret value this process read (readSecret, and the tokens inside a Codex auth.json,
 * refreshed ones too) is remembered, with the forms it takes when quoted: its lines alone, its words with
 * whitespace collapsed, and JSON-escaped. Anything shaped like a bearer header, a JWT, a Codex access
 * token, an API key or a refresh token is replaced too, because a response body can echo a credential
 * this process never saw.
 */
const SHAPES: RegExp[] = [
  /\bBearer\s+[^\s"',;]+/gi,
  /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g,
  /\b(?:at|sk|rt)[-_][A-Za-z0-9_-]{12,}/g,
];

const REDACTED = '[redacted]';
/** Shorter pieces would redact ordinary words; a secret is never that short. */
const MIN_SECRET = 8;

let remembered: string[] = [];

function formsOf(value: string): string[] {
  const forms = new Set<string>([value, value.trim(), value.replace(/\s+/g, ' ').trim(), JSON.stringify(value).slice(1, -1)]);
  for (const line of value.split(/[\r\n]+/)) forms.add(line.trim());
  for (const form of [...forms]) forms.add(JSON.stringify(form).slice(1, -1));
  return [...forms].filter((form) => form.length >= MIN_SECRET);
}

/** Remembers a secret value so that no text this process sends out quotes it. */
export function rememberSecret(value: string): void {
  const forms = formsOf(value).filter((form) => !remembered.includes(form));
  if (!forms.length) return;
  // Longest first, so a secret is replaced whole before any piece of it.
  remembered = [...remembered, ...forms].sort((a, b) => b.length - a.length);
}

export function redactSecrets(text: string, known: readonly string[] = []): string {
  let out = text;
  const secrets = known.length ? [...known.flatMap(formsOf), ...remembered].sort((a, b) => b.length - a.length) : remembered;
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  for (const shape of SHAPES) out = out.replace(shape, REDACTED);
  return out;
}

/** A copy of a JSON-like value with every string in it redacted. */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redactSecrets(value) as T;
  if (Array.isArray(value)) return value.map(redactDeep) as T;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v)])) as T;
  }
  return value;
}
