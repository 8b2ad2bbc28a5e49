import type { Block, HeadingBlock } from './markdown.js';
import { collapseWhitespace } from './whitespace.js';

// Reads, without micromark, lines whose Markdown block structure each line states on its own: ATX headings,
// bullet items opening with a checkbox or a word, prose lines, thematic breaks, fenced code at column 0 and
// blank lines. Any other line makes the reader give up on the whole span, which then goes to micromark, so
// this only answers where CommonMark + GFM leave no room for doubt. A heading's text that needs inline
// parsing is left to micromark too (see `inline`).
//
// Reading starts and stops where `readBlocks` may cut the document (a column-0 line that is an ATX heading
// or follows a blank line), so nothing is open when it starts, and it stops at the first such cut that is
// not inside fenced code, where everything it read is closed.

const BLANK = /^[ \t]*$/;
const ATX = /^(#{1,6})(?:[ \t](.*))?$/s;
/**
 * What makes a heading's text depend on inline parsing: escapes, code, emphasis, strikethrough, links,
 * HTML and autolinks, character references, a closing `#` sequence, and NUL (which becomes U+FFFD).
 */
const INLINE_SYNTAX = /[\\`*_~[<#\0]|&[#A-Za-z0-9]/;
const THEMATIC_BREAK = /^(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$/;
/** An opening code fence at column 0; a backtick fence's info string cannot hold a backtick. */
const FENCE_OPEN = /^(?:`{3,}(?=[^`]*$)|~{3,})/;
const FENCE_CLOSE = /^ {0,3}(`{3,}|~{3,})[ \t]*$/;
const LETTER = /^\p{L}/u;

const SPACE = 0x20;
const TAB = 0x09;

export interface SimpleReading {
  blocks: Block[];
  /** The region where reading stopped: the first region boundary (a later cut) reached outside fenced code. */
  next: number;
  /** Headings among `blocks` whose text holds inline syntax: their `text` is a stand-in until micromark reads it. */
  inline: HeadingBlock[];
}

/**
 * The blocks of the lines from `cuts[region]` on, or null when a line is not one this reader knows.
 * `cuts` are the cut points of `readBlocks`, ending with the line count.
 */
export function readSimpleRegions(lines: readonly string[], cuts: readonly number[], region: number): SimpleReading | null {
  const blocks: Block[] = [];
  const inline: HeadingBlock[] = [];
  // Content columns of the open list items, outermost first: a line indented to at least one continues it.
  const items: number[] = [];
  // Whether the previous line is paragraph text (which a following `---` would turn into a heading).
  let inParagraph = false;
  // The open code fence's marker (a run of backticks or tildes): it ends at a run as long or longer.
  let fence = '';
  const start = cuts[region]!;
  let end = cuts[region + 1]!;
  for (let i = start; i < lines.length; i++) {
    if (i === end) {
      if (fence === '') break;
      // The cut is inside the code: read on to the next one.
      end = cuts[++region + 1]!;
    }
    const line = lines[i]!;
    if (fence !== '') {
      const close = FENCE_CLOSE.exec(line);
      if (close && close[1]![0] === fence[0] && close[1]!.length >= fence.length) fence = '';
      continue;
    }
    const first = line.charCodeAt(0);
    if (BLANK.test(line)) {
      inParagraph = false;
      continue;
    }
    if (first === 0x23 /* # */) {
      // A column-0 ATX heading is always a cut, so outside code it can only be the first line read.
      const match = i === start ? ATX.exec(line) : null;
      if (!match) return null;
      const content = match[2] ?? '';
      const heading: HeadingBlock = { kind: 'heading', line: i + 1, level: match[1]!.length, atx: true, text: collapseWhitespace(content) };
      if (INLINE_SYNTAX.test(content)) inline.push(heading);
      blocks.push(heading);
      continue;
    }
    const item = readItem(line);
    if (item) {
      // The line continues every item whose content column it reaches; it must then start its own item
      // within three columns of that content (four would be code or paragraph text).
      let depth = 0;
      while (depth < items.length && items[depth]! <= item.column) depth++;
      const base = depth === 0 ? 0 : items[depth - 1]!;
      if (item.column - base > 3) return null;
      items.length = depth;
      items.push(item.column + 2);
      blocks.push({
        kind: 'item',
        line: i + 1,
        depth,
        checked: item.checked,
        paragraph: { line: i + 1, index: item.textAt, endLine: i + 1 },
      });
      inParagraph = true;
      continue;
    }
    const opening = FENCE_OPEN.exec(line);
    if (opening) {
      // A fence interrupts a paragraph, so at column 0 it is no item's lazy continuation: it ends the lists.
      fence = opening[0];
      items.length = 0;
      inParagraph = false;
      continue;
    }
    // Column-0 prose and breaks: only outside lists, where a line could be an item's lazy continuation.
    if (items.length > 0 || first === SPACE || first === TAB) return null;
    if (THEMATIC_BREAK.test(line)) {
      // After paragraph text `---` would underline a setext heading.
      if (inParagraph) return null;
      continue;
    }
    if (!startsProse(line, 0)) return null;
    inParagraph = true;
  }
  return { blocks, next: region + 1, inline };
}

/**
 * A bullet item (`-`, `*`, `+` after spaces and tabs, exactly one space after it) whose content opens with
 * a checkbox and a space, or with a word of prose. `column` is the marker's, tabs stopping every 4 columns
 * as CommonMark counts them; `textAt` is the index in the line where the item's paragraph text starts as
 * GFM reports it: past the checkbox and one space for `[ ]`/`[x]`, at the box itself for `[-]`/`[~]`.
 */
function readItem(line: string): { column: number; checked: boolean | null; textAt: number } | null {
  let at = 0;
  let column = 0;
  for (let code = line.charCodeAt(0); code === SPACE || code === TAB; code = line.charCodeAt(++at)) {
    column = code === TAB ? column + 4 - (column % 4) : column + 1;
  }
  const marker = line[at];
  if ((marker !== '-' && marker !== '*' && marker !== '+') || line.charCodeAt(at + 1) !== SPACE) return null;
  const content = at + 2;
  if (line[content] === '[') {
    const box = line[content + 1];
    const after = line.charCodeAt(content + 4);
    if (line[content + 2] !== ']' || line.charCodeAt(content + 3) !== SPACE || Number.isNaN(after) || after === SPACE || after === TAB) {
      return null;
    }
    if (box === ' ') return { column, checked: false, textAt: content + 4 };
    if (box === 'x' || box === 'X') return { column, checked: true, textAt: content + 4 };
    if (box === '-' || box === '~') return { column, checked: null, textAt: content };
    return null;
  }
  return startsProse(line, content) ? { column, checked: null, textAt: content } : null;
}

/**
 * Whether text at `at` can only open a paragraph: a letter, or emphasis or code markers that cannot form a
 * list marker, a thematic break or a fence (`*x`, `**x`, `_x`, `__x`, `` `x ``, ``` ``x ```). Digits, `#`,
 * `>`, `<`, `[`, `|` and the like are left to micromark.
 */
function startsProse(line: string, at: number): boolean {
  const char = line[at];
  if (char === undefined) return false;
  if (char === '*' || char === '_' || char === '`') {
    const next = line[at + 1] === char ? at + 2 : at + 1;
    const after = line[next];
    return after !== undefined && after !== char && after !== ' ' && after !== '\t';
  }
  // Two code units: a letter outside the BMP is a surrogate pair.
  return LETTER.test(line.slice(at, at + 2));
}
