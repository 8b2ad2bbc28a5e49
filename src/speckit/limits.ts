// What the reader hands to micromark, bounded: micromark's cost is far from linear on some constructs
// (nesting, setext headings, definitions resolved in every piece, very long pieces), so before a piece is
// parsed its lines are checked in one linear pass, and a piece over a limit ends the read with the line
// and the construct. No real tasks.md comes near these limits; each was measured in bench/hostile-markdown.ts.

/** Containers (`>`, list markers) opened on one line. */
export const MAX_NESTING = 32;
/** A stretch of lines between cut points that only micromark can read. */
export const MAX_BLOCK_CHARS = 16 * 1024;
/** A heading line (its inline content is parsed as a whole). */
export const MAX_HEADING_CHARS = 4 * 1024;
/** A piece grown over an unclosed code or HTML block. */
export const MAX_PIECE_CHARS = 64 * 1024;
/** Setext underlines in one micromark piece: each one costs micromark a pass over the whole piece. */
export const MAX_SETEXT_PER_PIECE = 32;
/** Distinct link and footnote definitions: each is put before every piece micromark reads. */
export const MAX_DEFINITIONS = 128;

/**
 * Characters handed to micromark over one file's reading, everything counted: pieces (grown ones each time
 * they are parsed again), the definitions put before them, the second reading with definitions known, and
 * heading-text batches. It bounds micromark's share of any file by construction. The slowest micromark input
 * measured within the other limits (Node 24) is a paragraph of `***a_ ` (emphasis runs, which it pairs
 * quadratically in a block): 8 KB in 111 ms, 16 KB in 450 ms; `~~a~ ` runs 8 KB in 45 ms, inline links and
 * brackets 0.2 to 0.5 MB/s, indented code about 0.25 MB/s, HTML blocks 1.2 to 3 MB/s. Since a block costs
 * more per character the longer it is, 8 KB costs at most about 0.11 s, beside at most about 0.54 s for 5 MB
 * of the slowest construct read directly (bench/hostile-markdown.ts): under 1 s for any file up to 5 MB.
 * Spec Kit files hand micromark almost nothing (the fixtures at most 236 chars, the generated 1 MB file none).
 */
export const MAX_MICROMARK_CHARS = 8 * 1024;

/** What one file's reading has handed to micromark so far, held under `limit` (MAX_MICROMARK_CHARS). */
export class MicromarkBudget {
  used = 0;
  constructor(readonly limit = MAX_MICROMARK_CHARS) {}

  /** Counts `chars` about to be given to micromark for lines from 1-based `line`; throws SpecTooComplex over the limit. */
  spend(chars: number, line: number): void {
    this.used += chars;
    if (this.used > this.limit) {
      throw new SpecTooComplex(
        line,
        `more than ${kb(this.limit)} of Markdown that only the full CommonMark parser reads (HTML blocks, indented code, ` +
          `links and references, rare constructs), which is slow on it`,
      );
    }
  }
}

/** A tasks.md beyond what the reader reads in bounded time; `line` is 1-based. */
export class SpecTooComplex extends Error {
  constructor(
    readonly line: number,
    readonly construct: string,
  ) {
    super(`line ${line}: ${construct}`);
    this.name = 'SpecTooComplex';
  }
}

const THEMATIC_BREAK = /^ {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$/;
const SETEXT_UNDERLINE = /^ {0,3}(?:=+|-+)[ \t]*$/;
const ATX = /^ {0,3}#{1,6}(?:[ \t]|$)/;

/** Where a line's content starts after its container markers, and how many there are. */
function containers(line: string): { count: number; rest: number } {
  let count = 0;
  let at = 0;
  for (;;) {
    while (line[at] === ' ' || line[at] === '\t') at++;
    const char = line[at];
    if (char === '>') {
      count++;
      at++;
      continue;
    }
    let marker = at;
    if (char === '-' || char === '*' || char === '+') marker++;
    else {
      while (marker - at < 9 && line.charCodeAt(marker) >= 0x30 && line.charCodeAt(marker) <= 0x39) marker++;
      if (marker === at || (line[marker] !== '.' && line[marker] !== ')')) break;
      marker++;
    }
    const after = line[marker];
    if (after !== ' ' && after !== '\t' && after !== undefined) break;
    count++;
    at = marker;
  }
  return { count, rest: at };
}

/**
 * Throws SpecTooComplex when `lines[start..end)` (0-based) is beyond what one micromark piece may hold.
 * `grown` says the piece was grown over an unclosed block, so only the piece limit applies to its size.
 */
export function checkPiece(lines: readonly string[], start: number, end: number, grown = false): void {
  let chars = 0;
  let setext = 0;
  for (let i = start; i < end; i++) {
    const line = lines[i]!;
    chars += line.length + 1;
    if (ATX.test(line)) checkHeading(line, i + 1);
    const { count } = containers(line);
    if (count > MAX_NESTING && !THEMATIC_BREAK.test(line)) {
      throw new SpecTooComplex(i + 1, `${count} nested block quotes or lists on one line, over the limit of ${MAX_NESTING}`);
    }
    if (i > start && underlines(lines, i) && ++setext > MAX_SETEXT_PER_PIECE) {
      throw new SpecTooComplex(i + 1, `more than ${MAX_SETEXT_PER_PIECE} setext heading underlines (=== or --- under text) in one block`);
    }
  }
  const limit = grown ? MAX_PIECE_CHARS : MAX_BLOCK_CHARS;
  if (chars > limit) {
    throw new SpecTooComplex(
      start + 1,
      grown
        ? `an unclosed code fence or HTML block running over ${kb(MAX_PIECE_CHARS)}`
        : `a block of ${kb(chars)} without a blank line that needs full Markdown parsing, over the ${kb(MAX_BLOCK_CHARS)} limit`,
    );
  }
}

/** Throws SpecTooComplex when a heading line (1-based `line`) is longer than micromark may read in one. */
export function checkHeading(text: string, line: number): void {
  if (text.length > MAX_HEADING_CHARS) throw new SpecTooComplex(line, `a heading of ${kb(text.length)}, over the ${kb(MAX_HEADING_CHARS)} limit`);
}

/** How many setext underline candidates a stretch of lines holds (see `checkPiece`), for sizing pieces. */
export function setextUnderlines(lines: readonly string[], start: number, end: number): number {
  let count = 0;
  for (let i = start + 1; i < end; i++) if (underlines(lines, i)) count++;
  return count;
}

/** Whether line `i` may underline the text above it into a setext heading (counted generously: inside containers too). */
function underlines(lines: readonly string[], i: number): boolean {
  const line = lines[i]!;
  if (lines[i - 1]!.trim() === '') return false;
  return SETEXT_UNDERLINE.test(line) || SETEXT_UNDERLINE.test(line.slice(containers(line).rest));
}

/** Throws SpecTooComplex when the file defines more distinct links and footnotes than every piece can be given. */
export function checkDefinitions(definitions: readonly string[], line: number): void {
  if (definitions.length > MAX_DEFINITIONS) {
    throw new SpecTooComplex(line, `${definitions.length} distinct link or footnote definitions, over the limit of ${MAX_DEFINITIONS}`);
  }
}

function kb(chars: number): string {
  return `${Math.round(chars / 1024)} KB`;
}
