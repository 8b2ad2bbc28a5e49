import { normalizeIdentifier } from 'micromark-util-normalize-identifier';
import { collapseWhitespace, trimSpacesEnd } from './whitespace.js';

// The plain text of a heading's inline content as micromark-piece.ts reads it from micromark's tree
// (`plainText`), in one linear pass: backslash escapes, code spans (which keep their backticks), emphasis
// and strong emphasis (whose markers vanish), hard line breaks, numeric and common named character
// references, and brackets that name no definition (which are text). Anything whose reading depends on more
// (references to defined labels, inline links, HTML and autolinks, other named character references,
// strikethrough, GFM's literal autolinks, NUL) answers null, and the heading goes to micromark as before.

/**
 * What this reader leaves to micromark: HTML and autolinks, strikethrough, inline links and images, literal
 * autolinks, and NUL (micromark misplaces emphasis markers around its U+FFFD).
 */
const UNREAD = /[<~\0]|\]\(|@|www\.|https?:\/\//i;
/** What this reader reads: without any, the text is as written. */
const MARKUP = /[\\`*_&]/;
/** A character reference: decimal, hexadecimal or named (the name up to 31 characters, as micromark reads it). */
const REFERENCE = /^&(?:#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6})|([A-Za-z][A-Za-z0-9]{0,30}));/;
/** The named references read here (HTML's values); any other name goes to micromark, which knows them all. */
const NAMED: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
  copy: '\u00a9',
  reg: '\u00ae',
  times: '\u00d7',
  ndash: '\u2013',
  mdash: '\u2014',
  hellip: '\u2026',
  larr: '\u2190',
  rarr: '\u2192',
};
/** Emphasis runs beyond this go to micromark: matching them walks back over the open ones, which must stay short. */
const MAX_RUNS = 64;
const ASCII_PUNCTUATION = /^[!-/:-@[-`{-~]$/;
/** micromark classifies each UTF-16 code unit on its own: a lone surrogate is neither of these. */
const WHITESPACE = /\s/;
const PUNCTUATION = /\p{P}|\p{S}/u;

/** A run of `*` or `_`: how many of its markers are still text, and whether it may open or close emphasis. */
interface Run {
  marker: string;
  size: number;
  open: boolean;
  close: boolean;
  /** False once emphasis formed around it: then it is text for good. */
  live: boolean;
}

/**
 * The inline content of an ATX heading line (`#` at column 0, then a space or a tab, or nothing), without
 * the optional closing sequence of `#`s (which a space or tab must precede, unless it is all there is).
 */
export function atxContent(line: string): string {
  const content = trimSpacesEnd(line.replace(/^#{1,6}[ \t]*/, ''));
  // Scanned from the end, as in trimSpacesEnd: `/#+$/` would be quadratic on a long run of `#` inside.
  let closing = content.length;
  while (closing > 0 && content[closing - 1] === '#') closing--;
  if (closing === content.length) return content;
  if (closing === 0) return '';
  const before = content[closing - 1];
  return before === ' ' || before === '\t' ? trimSpacesEnd(content.slice(0, closing)) : content;
}

/**
 * The plain text of inline content (a heading's, its lines joined by `\n`, each without its indentation), or
 * null when it holds what only micromark reads. `labels` are the labels the document defines (see
 * `definedLabels`): a bracketed label among them may make a reference, and the text goes to micromark.
 */
export function plainHeadingText(text: string, labels: ReadonlySet<string>): string | null {
  if (UNREAD.test(text) || (labels.size > 0 && refersTo(text, labels))) return null;
  if (!MARKUP.test(text)) return collapseWhitespace(text);
  const ticks = backtickRuns(text);
  const pieces: (string | Run)[] = [];
  const runs: Run[] = [];
  let plain = '';
  const flush = () => {
    if (plain !== '') pieces.push(plain);
    plain = '';
  };
  for (let i = 0; i < text.length; ) {
    const char = text[i]!;
    if (char === '\\') {
      const next = text[i + 1];
      if (next === '\n') {
        // A hard line break, which reads as a space.
        plain += ' ';
        i += 2;
      } else if (next !== undefined && ASCII_PUNCTUATION.test(next)) {
        plain += next;
        i += 2;
      } else {
        plain += char;
        i++;
      }
      continue;
    }
    if (char === '`') {
      let end = i;
      while (text[end] === '`') end++;
      const close = ticks.next(end - i, end);
      if (close === null) {
        plain += text.slice(i, end);
        i = end;
        continue;
      }
      let code = text.slice(end, close);
      if (/^[ \n][^]*[ \n]$/.test(code) && /[^ \n]/.test(code)) code = code.slice(1, -1);
      plain += '`' + code + '`';
      i = close + (end - i);
      continue;
    }
    if (char === '&') {
      const reference = REFERENCE.exec(text.slice(i, i + 40));
      if (reference) {
        const decoded = reference[3] !== undefined ? NAMED[reference[3]] : numericReference(reference[1] ?? reference[2]!, reference[1] ? 10 : 16);
        if (decoded === undefined) return null;
        plain += decoded;
        i += reference[0].length;
        continue;
      }
    }
    if (char === '*' || char === '_') {
      let end = i;
      while (text[end] === char) end++;
      const run = flanking(char, end - i, classify(text, i - 1), classify(text, end));
      if (runs.push(run) > MAX_RUNS) return null;
      flush();
      pieces.push(run);
      i = end;
      continue;
    }
    plain += char;
    i++;
  }
  flush();
  matchEmphasis(runs);
  let out = '';
  for (const piece of pieces) out += typeof piece === 'string' ? piece : piece.marker.repeat(piece.size);
  return collapseWhitespace(out);
}

/**
 * A link or footnote label as micromark matches it (micromark's own normalizeIdentifier: whitespace
 * collapsed, case folded), lower case as mdast writes an identifier: `[^n]` is labelled `^n`, which no link
 * definition can be (GFM reads it as a footnote).
 */
export function normalizeLabel(label: string): string {
  return normalizeIdentifier(label).toLowerCase();
}

/** The labels of definition lines (`[label]: x`, `[^label]: x`, as micromark-piece.ts writes them). */
export function definedLabels(definitions: readonly string[]): Set<string> {
  return new Set(definitions.map((line) => normalizeLabel(line.slice(1, line.lastIndexOf(']:')))));
}

/**
 * Whether a bracketed span of the text (innermost: a label holds no unescaped bracket) names one of
 * `labels`. Only then can a reference or a footnote call form; otherwise brackets are text.
 */
function refersTo(text: string, labels: ReadonlySet<string>): boolean {
  let open = -1;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '\\') i++;
    else if (char === '[') open = i;
    else if (char === ']' && open !== -1) {
      if (labels.has(normalizeLabel(text.slice(open + 1, i)))) return true;
      open = -1;
    }
  }
  return false;
}

/**
 * The character a numeric reference stands for, as micromark decodes it: U+FFFD for NUL, C0 and C1 controls
 * (but tab, line feed, form feed and carriage return), surrogates, noncharacters and beyond Unicode.
 */
function numericReference(digits: string, base: number): string {
  const code = Number.parseInt(digits, base);
  const replaced =
    code < 0x09 ||
    code === 0x0b ||
    (code > 0x0d && code < 0x20) ||
    (code > 0x7e && code < 0xa0) ||
    (code >= 0xd800 && code <= 0xdfff) ||
    (code >= 0xfdd0 && code <= 0xfdef) ||
    (code & 0xfffe) === 0xfffe ||
    code > 0x10ffff;
  return replaced ? '\ufffd' : String.fromCodePoint(code);
}

/** 1 for whitespace (the text's edges included), 2 for punctuation, 0 for anything else: micromark's classes. */
function classify(text: string, at: number): 0 | 1 | 2 {
  const char = text[at];
  if (char === undefined || WHITESPACE.test(char)) return 1;
  return PUNCTUATION.test(char) ? 2 : 0;
}

/** Whether a run may open or close emphasis (CommonMark's left- and right-flanking rules, `_` stricter inside words). */
function flanking(marker: string, size: number, before: 0 | 1 | 2, after: 0 | 1 | 2): Run {
  const left = after === 0 || (after === 2 && before !== 0);
  const right = before === 0 || (before === 2 && after !== 0);
  if (marker === '*') return { marker, size, open: left, close: right, live: true };
  return { marker, size, open: left && (before !== 0 || !right), close: right && (after !== 0 || !left), live: true };
}

/**
 * Pairs the runs as micromark does: each closer, left to right, takes the nearest live opener of its marker
 * (skipping a pair whose sizes add up to a multiple of three when either could do both, unless the closer's
 * is one too), two markers each when both have two, and everything between them becomes text.
 */
function matchEmphasis(runs: Run[]): void {
  for (let closer = 0; closer < runs.length; closer++) {
    const close = runs[closer]!;
    while (close.close && close.size > 0) {
      let opener = closer - 1;
      for (; opener >= 0; opener--) {
        const open = runs[opener]!;
        if (!open.live || !open.open || open.size === 0 || open.marker !== close.marker) continue;
        if ((open.close || close.open) && close.size % 3 !== 0 && (open.size + close.size) % 3 === 0) continue;
        break;
      }
      if (opener < 0) break;
      const open = runs[opener]!;
      const use = open.size > 1 && close.size > 1 ? 2 : 1;
      open.size -= use;
      close.size -= use;
      for (let between = opener + 1; between < closer; between++) runs[between]!.live = false;
    }
  }
}

/**
 * Where each run of backticks starts, by length, for finding a code span's closing run: the first run of the
 * same length after a point. Points only move forward, so each length's list is walked once.
 */
function backtickRuns(text: string): { next: (length: number, from: number) => number | null } {
  const byLength = new Map<number, { starts: number[]; at: number }>();
  for (let i = text.indexOf('`'); i !== -1; ) {
    let end = i;
    while (text[end] === '`') end++;
    const list = byLength.get(end - i) ?? { starts: [], at: 0 };
    list.starts.push(i);
    byLength.set(end - i, list);
    i = text.indexOf('`', end);
  }
  return {
    next(length, from) {
      const list = byLength.get(length);
      if (!list) return null;
      while (list.at < list.starts.length && list.starts[list.at]! < from) list.at++;
      return list.at < list.starts.length ? list.starts[list.at]! : null;
    },
  };
}
