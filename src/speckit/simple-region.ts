import type { Block } from './markdown.js';

// Reads, without micromark, a region of lines whose Markdown block structure each line states on its own:
// headings whose text needs no inline parsing, bullet items opening with a checkbox or a plain word,
// one-paragraph-per-line prose, thematic breaks and blank lines. Any other line makes the whole region
// fall back to micromark, so this only ever answers where CommonMark + GFM leave no room for doubt.
//
// A region starts and ends where `readBlocks` may cut the document (a column-0 line that is an ATX heading
// or follows a blank line), so nothing is open when it starts and everything is closed when it ends.

const BLANK = /^[ \t]*$/;
const ATX = /^(#{1,6})(?:[ \t](.*))?$/;
/** Characters that make a heading's text depend on inline parsing (escapes, code, emphasis, links, HTML,
 * entities, strikethrough, a closing `#` sequence, NUL which becomes U+FFFD). */
const INLINE_SYNTAX = /[\\`*_~[<&#\0]/;
const THEMATIC_BREAK = /^(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$/;
const LETTER = /^\p{L}/u;

const SPACE = 0x20;
const TAB = 0x09;

/**
 * The blocks of lines `start` to `end` (exclusive), or null when a line is not one this reader knows.
 * Only valid when `start` and `end` are cut points in the sense of `readBlocks`.
 */
export function readSimpleRegion(lines: readonly string[], start: number, end: number): Block[] | null {
  const blocks: Block[] = [];
  // Content columns of the open list items, outermost first: a line indented to at least one continues it.
  const items: number[] = [];
  // Whether the previous line is paragraph text (which a following `---` would turn into a heading).
  let inParagraph = false;
  for (let i = start; i < end; i++) {
    const line = lines[i]!;
    const first = line.charCodeAt(0);
    if (BLANK.test(line)) {
      inParagraph = false;
      continue;
    }
    if (first === 0x23 /* # */) {
      // A column-0 ATX heading is always a cut, so it can only open the region.
      const heading = i === start ? readHeading(line, i + 1) : null;
      if (!heading) return null;
      blocks.push(heading);
      continue;
    }
    const item = readItem(line);
    if (item) {
      // The line continues every item whose content column it reaches; it must then start its own item
      // within three columns of that content (four would be code or paragraph text).
      let depth = 0;
      while (depth < items.length && items[depth]! <= item.indent) depth++;
      const base = depth === 0 ? 0 : items[depth - 1]!;
      if (item.indent - base > 3) return null;
      items.length = depth;
      items.push(item.indent + 2);
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
    // Column-0 prose and breaks: only outside lists, where no line can be a lazy continuation of an item.
    if (items.length > 0 || first === SPACE || first === TAB) return null;
    if (THEMATIC_BREAK.test(line)) {
      // After paragraph text `---` would underline a setext heading.
      if (inParagraph) return null;
      continue;
    }
    if (!startsProse(line, 0)) return null;
    inParagraph = true;
  }
  return blocks;
}

function readHeading(line: string, lineNumber: number): Block | null {
  const match = ATX.exec(line);
  if (!match) return null;
  const content = match[2] ?? '';
  if (INLINE_SYNTAX.test(content)) return null;
  return { kind: 'heading', line: lineNumber, level: match[1]!.length, atx: true, text: content.replace(/\s+/g, ' ').trim() };
}

/**
 * A bullet item (`-`, `*`, `+`, spaces only before it, exactly one space after it) whose content opens
 * with a checkbox and a space, or with a word of prose. `textAt` is where the item's paragraph text starts
 * as GFM reports it: past the checkbox and one space for `[ ]`/`[x]`, at the box itself for `[-]`/`[~]`.
 */
function readItem(line: string): { indent: number; checked: boolean | null; textAt: number } | null {
  let indent = 0;
  while (line.charCodeAt(indent) === SPACE) indent++;
  const marker = line[indent];
  if ((marker !== '-' && marker !== '*' && marker !== '+') || line.charCodeAt(indent + 1) !== SPACE) return null;
  const content = indent + 2;
  if (line[content] === '[') {
    const box = line[content + 1];
    const after = line.charCodeAt(content + 4);
    if (line[content + 2] !== ']' || line.charCodeAt(content + 3) !== SPACE || Number.isNaN(after) || after === SPACE || after === TAB) {
      return null;
    }
    if (box === ' ') return { indent, checked: false, textAt: content + 4 };
    if (box === 'x' || box === 'X') return { indent, checked: true, textAt: content + 4 };
    if (box === '-' || box === '~') return { indent, checked: null, textAt: content };
    return null;
  }
  return startsProse(line, content) ? { indent, checked: null, textAt: content } : null;
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
