/** Whitespace that `\s+` → ' ' would change: any but a plain space, or a space followed by more. */
const UNCOLLAPSED = /[^\S ]| \s/;

/**
 * Runs of whitespace as one space, ends trimmed: how a reader sees text spread over lines or padded.
 * Most text needs no change, and testing first spares rebuilding it (a large tasks.md has 10,000 tasks).
 */
export function collapseWhitespace(text: string): string {
  return (UNCOLLAPSED.test(text) ? text.replace(/\s+/g, ' ') : text).trim();
}
