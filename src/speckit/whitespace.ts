/** Whitespace that `\s+` → ' ' would change: any but a plain space, or a space followed by more. */
const UNCOLLAPSED = /[^\S ]| \s/;

/**
 * Runs of whitespace as one space, ends trimmed: how a reader sees text spread over lines or padded.
 * Most text needs no change, and testing first spares rebuilding it (a large tasks.md has 10,000 tasks).
 */
export function collapseWhitespace(text: string): string {
  return (UNCOLLAPSED.test(text) ? text.replace(/\s+/g, ' ') : text).trim();
}

/**
 * `text` without the spaces and tabs at its end (which Markdown drops from a line or a block). Scanned
 * from the end: `/[ \t]+$/` tries every run of spaces inside the text, quadratic on a line of them.
 */
export function trimSpacesEnd(text: string): string {
  let end = text.length;
  while (end > 0 && (text.charCodeAt(end - 1) === 0x20 || text.charCodeAt(end - 1) === 0x09)) end--;
  return end === text.length ? text : text.slice(0, end);
}
