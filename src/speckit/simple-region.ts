import { atxContent, normalizeLabel, plainHeadingText } from './heading-text.js';
import { MAX_NESTING } from './limits.js';
import type { Block, HeadingBlock, ItemBlock } from './markdown.js';
import { collapseWhitespace, trimSpacesEnd } from './whitespace.js';

// Reads, without micromark, lines whose Markdown block structure is certain from the lines themselves: ATX
// headings, bullet and ordered items opening with a checkbox or a word (or empty), prose paragraphs and the
// setext headings they become, thematic breaks, fenced code and HTML comments at column 0, GFM tables, link reference and
// footnote definitions, block quotes holding items, paragraphs (lazy lines included) and headings, and blank
// lines. Any other line makes the reader give up on the whole span, which then goes
// to micromark, so this only answers where CommonMark + GFM (as micromark reads them) leave no room for
// doubt. An ATX heading's text that needs inline parsing is read later (see `inline`).
//
// Reading starts and stops where `readBlocks` may cut the document (a column-0 line that is an ATX heading
// or follows a blank line), so nothing is open when it starts. It reads on over such cuts outside fenced
// code, where everything it read is closed, until a region holds a line it does not know; one call reads a
// whole stretch of regions, which matters where they are short (`a\n=\n\n` repeated is a region per line).

const BLANK = /^[ \t]*$/;
const ATX = /^(#{1,6})(?:[ \t](.*))?$/s;
/**
 * What makes a heading's text depend on inline parsing: escapes, code, emphasis, strikethrough, links,
 * HTML and autolinks, character references, a closing `#` sequence, and NUL (which becomes U+FFFD).
 */
const INLINE_SYNTAX = /[\\`*_~[<#\0]|&[#A-Za-z0-9]/;
const THEMATIC_BREAK = /^(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$/;
/** Under a paragraph: `=` makes it a level 1 heading, `-` level 2 (before a thematic break or an empty item). */
const SETEXT_UNDERLINE = /^ {0,3}(=+|-+)[ \t]*$/;
/** An opening code fence at column 0; a backtick fence's info string cannot hold a backtick. */
const FENCE_OPEN = /^(?:`{3,}(?=[^`]*$)|~{3,})/;
const FENCE_CLOSE = /^ {0,3}(`{3,}|~{3,})[ \t]*$/;
/**
 * An HTML comment opening a line at column 0 starts an HTML block (CommonMark's kind 2) that ends with the
 * first line holding `-->`, the opening line included; nothing inside it is Markdown.
 */
const COMMENT_OPEN = '<!--';
const COMMENT_CLOSE = '-->';
const LETTER = /^\p{L}/u;
/**
 * A link reference definition whole on one line, as this reader takes it: a label without brackets or
 * escapes, a destination of plain ASCII (no `<>`, parentheses or escapes) and an optional quoted title.
 * Anything else that starts with `[` goes to micromark.
 */
const LINK_DEFINITION = /^\[([^[\]\\]{1,999})\]:[ \t]*[!-'*-;=?-[\]-~]+(?:[ \t]+(?:"[^"\\]*"|'[^'\\]*'|\([^()\\]*\)))?[ \t]*$/;
/** A GFM footnote definition whose text follows on its line after one space (checked to open prose). */
const FOOTNOTE_DEFINITION = /^\[\^([^\s[\]\\]{1,999})\]: /;
/** What might be a table's delimiter row. */
const DELIMITER_LIKE = /^[|:\- \t]*$/;
/** A table delimiter cell: hyphens, optionally aligned by colons. */
const DELIMITER_CELL = /^[ \t]*:?-+:?[ \t]*$/;

const SPACE = 0x20;
const TAB = 0x09;

export interface SimpleReading {
  blocks: Block[];
  /** The region where reading stopped: the first one it could not read, or the region count. */
  next: number;
  /** Headings among `blocks` whose text holds inline syntax: their `text` is a stand-in until it is read. */
  inline: HeadingBlock[];
  /** The link and footnote definitions read, each as micromark-piece.ts writes one for other pieces. */
  definitions: string[];
  /** The 1-based line of the first of them (0 when there is none). */
  definitionLine: number;
}

/**
 * What the line before is, as far as the next line cares: nothing open (`none`), paragraph text at the top
 * level (`prose`, which a setext underline makes a heading and a non-1 ordered item cannot interrupt), an
 * item's first paragraph, an empty item (`empty`, the line just read), link definitions (content whose following lines micromark reads its own way), a
 * footnote's paragraph, a table's rows, or a paragraph inside a block quote (or in one just closed).
 */
type Open = 'none' | 'prose' | 'item' | 'empty' | 'definition' | 'footnote' | 'table' | 'quoted';

/**
 * Block quotes and the list items inside them, outermost first (the first is always a quote): an item's
 * `width` is how far its content is indented past the content of what holds it. `owner` is the item whose
 * first paragraph is open, which continuation lines lengthen; `paragraph` says a paragraph is open inside.
 */
interface Quoted {
  containers: { quote: boolean; width: number }[];
  owner: ItemBlock | null;
  paragraph: boolean;
}

/**
 * The blocks of the regions from `cuts[region]` on, up to the first region holding a line this reader does
 * not know (then `next` is that region), or null when the first one does.
 * `cuts` are the cut points of `readBlocks`, ending with the line count. `labels` are those the document
 * defines (a setext heading's text naming one is left to micromark).
 */
export function readSimpleRegions(lines: readonly string[], cuts: readonly number[], region: number, labels: ReadonlySet<string> = new Set()): SimpleReading | null {
  const blocks: Block[] = [];
  const inline: HeadingBlock[] = [];
  const defined: string[] = [];
  // Content columns of the open list items, outermost first: a line indented to at least one continues it.
  const items: number[] = [];
  let open: Open = 'none';
  const quoted: Quoted = { containers: [], owner: null, paragraph: false };
  // The first line of the open top-level paragraph (`prose`).
  let paragraph = 0;
  // The open code fence's marker (a run of backticks or tildes): it ends at a run as long or longer. An open
  // HTML comment block is COMMENT_OPEN here: it ends at a line holding COMMENT_CLOSE.
  let fence = '';
  const from = region;
  let start = cuts[region]!;
  let end = cuts[region + 1]!;
  // What was read up to the last cut reached outside code, where everything read is closed: a line this
  // reader does not know gives up the region it is in, and what came before stands.
  let keptRegion = region;
  let keptBlocks = 0;
  let keptInline = 0;
  let keptDefined = 0;
  let definitionLine = 0;
  const stop = (): SimpleReading | null => {
    if (keptRegion === from) return null;
    blocks.length = keptBlocks;
    inline.length = keptInline;
    defined.length = keptDefined;
    return { blocks, next: keptRegion, inline, definitions: defined, definitionLine: keptDefined > 0 ? definitionLine : 0 };
  };
  for (let i = start; i < lines.length; i++) {
    if (i === end) {
      region++;
      end = cuts[region + 1]!;
      // A cut inside code is read on; outside it, the next region starts with nothing open.
      if (fence === '') {
        keptRegion = region;
        keptBlocks = blocks.length;
        keptInline = inline.length;
        keptDefined = defined.length;
        start = i;
        if (items.length > 0) items.length = 0;
        open = 'none';
        if (quoted.containers.length > 0) quoted.containers.length = 0;
        quoted.owner = null;
        quoted.paragraph = false;
      }
    }
    const line = lines[i]!;
    if (fence === COMMENT_OPEN) {
      if (line.includes(COMMENT_CLOSE)) fence = '';
      continue;
    }
    if (fence !== '') {
      const close = FENCE_CLOSE.exec(line);
      if (close && close[1]![0] === fence[0] && close[1]!.length >= fence.length) fence = '';
      continue;
    }
    const first = line.charCodeAt(0);
    if (BLANK.test(line)) {
      // A line without `>` ends every block quote, and the items inside them.
      if (quoted.containers.length > 0) quoted.containers.length = 0;
      // An item may start with one blank line, not two: an empty one followed by a blank line is closed.
      if (open === 'empty') items.length--;
      open = 'none';
      continue;
    }
    if (first === 0x23 /* # */) {
      // A column-0 ATX heading is always a cut, so outside code it can only be the first line read.
      const match = i === start ? ATX.exec(line) : null;
      if (!match) return stop();
      const content = match[2] ?? '';
      const heading: HeadingBlock = { kind: 'heading', line: i + 1, level: match[1]!.length, atx: true, text: collapseWhitespace(content) };
      if (INLINE_SYNTAX.test(content)) inline.push(heading);
      blocks.push(heading);
      continue;
    }
    // A row, until a blank line; anything else that might end the table or continue it is left to micromark.
    if (open === 'table') {
      if (first !== 0x7c /* | */) return stop();
      continue;
    }
    if (quoted.containers.length > 0 || (items.length === 0 && (open === 'none' || open === 'prose') && opensQuote(line, first))) {
      const read = readQuotedLine(line, i, quoted, blocks, open !== 'none', labels);
      if (read === null) return stop();
      // `closed`: the line ended every quote, and is read below, after a paragraph in a container if one was open.
      open = quoted.paragraph ? 'quoted' : 'none';
      if (read === 'quoted') continue;
    }
    // Before items: under paragraph text, `-` is an underline (an empty item cannot interrupt a paragraph).
    const underline = open === 'prose' && items.length === 0 ? SETEXT_UNDERLINE.exec(line) : null;
    if (underline) {
      const text = plainHeadingText(paragraphText(lines, paragraph, i), labels);
      if (text === null) return stop();
      blocks.push({ kind: 'heading', line: paragraph + 1, level: underline[1]![0] === '=' ? 1 : 2, atx: false, text });
      open = 'none';
      continue;
    }
    const item = readItem(line);
    if (item) {
      // The line continues every item whose content column it reaches; it must then start its own item
      // within three columns of that content (four would be code or paragraph text).
      let depth = 0;
      while (depth < items.length && items[depth]! <= item.column) depth++;
      const base = depth === 0 ? 0 : items[depth - 1]!;
      if (item.column - base > 3) return stop();
      // Content on the line after an empty item, and an empty item under paragraph text (which it cannot
      // interrupt), are left to micromark.
      if ((open === 'empty' && depth === items.length) || (item.empty && open !== 'none')) return stop();
      // An ordered item interrupts a paragraph of the container it is in only when it starts at 1.
      const interrupts = open === 'prose' || open === 'definition' || open === 'quoted' || (open === 'item' && depth === items.length);
      if (interrupts && item.number !== null && item.number !== '1') return stop();
      items.length = depth;
      items.push(item.content);
      blocks.push({
        kind: 'item',
        line: i + 1,
        depth,
        checked: item.checked,
        paragraph: item.empty ? null : { line: i + 1, index: item.textAt, endLine: i + 1 },
      });
      open = item.empty ? 'empty' : 'item';
      continue;
    }
    const opening = FENCE_OPEN.exec(line);
    if (opening) {
      // A fence interrupts a paragraph, so at column 0 it is no item's lazy continuation: it ends the lists.
      fence = opening[0];
      items.length = 0;
      open = 'none';
      continue;
    }
    if (line.startsWith(COMMENT_OPEN)) {
      // A comment block interrupts a paragraph too, and may end on its own line (`<!-- note -->`).
      if (!line.includes(COMMENT_CLOSE, COMMENT_OPEN.length - 2)) fence = COMMENT_OPEN;
      items.length = 0;
      open = 'none';
      continue;
    }
    // Column-0 prose and the rest: only outside lists, where a line could be an item's lazy continuation.
    if (items.length > 0 || first === SPACE || first === TAB) return stop();
    if (THEMATIC_BREAK.test(line)) {
      if (open !== 'none') return stop();
      continue;
    }
    if (first === 0x5b /* [ */) {
      // A definition cannot interrupt a paragraph; after one, micromark reads what follows as more content.
      if (open !== 'none' && open !== 'definition') return stop();
      const footnote = FOOTNOTE_DEFINITION.exec(line);
      if (footnote) {
        if (!startsProse(line, footnote[0].length)) return stop();
        if (defined.push(`[^${normalizeLabel(footnote[1]!)}]: x`) === 1) definitionLine = i + 1;
        open = 'footnote';
        continue;
      }
      const link = LINK_DEFINITION.exec(line);
      if (!link || link[1]![0] === '^' || !/[^ \t]/.test(link[1]!)) return stop();
      if (defined.push(`[${normalizeLabel(link[1]!)}]: x`) === 1) definitionLine = i + 1;
      open = 'definition';
      continue;
    }
    if (first === 0x7c /* | */) {
      // A table may interrupt a paragraph. A line of delimiter characters after paragraph text might make
      // a table of the line before (whose cells this does not count), so it is left to micromark.
      if (open !== 'none' && (open !== 'prose' || DELIMITER_LIKE.test(line))) return stop();
      if (i + 1 < end && isTableStart(line, lines[i + 1]!)) {
        open = 'table';
        i++;
        continue;
      }
      // Not a table: paragraph text, which nothing else starting with `|` can be.
      if (open === 'none') {
        open = 'prose';
        paragraph = i;
      }
      continue;
    }
    if (!startsProse(line, 0) || open === 'definition' || open === 'quoted') return stop();
    if (open === 'none') {
      open = 'prose';
      paragraph = i;
    }
  }
  return { blocks, next: region + 1, inline, definitions: defined, definitionLine };
}

/**
 * Reads a line while block quotes are open or when it opens one (no list being open outside them), as
 * CommonMark does: the line continues each open container whose marker (`>`) or indentation (an item's
 * content) it has, then opens new quotes and at most one item, and the rest is a paragraph's text. A line
 * that continues fewer containers is a lazy continuation of an open paragraph, or closes the containers it
 * does not continue. Answers `quoted` when containers stay open, `closed` when the line closed every one
 * and is for the caller to read as a top-level line, null for anything else (tabs, breaks, code, tables,
 * definitions, HTML inside a quote, or a heading whose text needs micromark). `afterParagraph` says the line before is paragraph text.
 */
function readQuotedLine(
  line: string,
  i: number,
  quoted: Quoted,
  blocks: Block[],
  afterParagraph: boolean,
  labels: ReadonlySet<string>,
): 'quoted' | 'closed' | null {
  if (line.includes('\t')) return null;
  const { containers } = quoted;
  // micromark lets no ordered item but `1.` start on a line after paragraph text, even inside a quote the line opens.
  const interrupting = afterParagraph || quoted.paragraph;
  let at = 0;
  let matched = 0;
  for (; matched < containers.length; matched++) {
    const container = containers[matched]!;
    let next = at;
    while (line.charCodeAt(next) === SPACE) next++;
    if (container.quote) {
      if (next - at > 3 || line[next] !== '>') break;
      at = line.charCodeAt(next + 1) === SPACE ? next + 2 : next + 1;
    } else if (next < line.length) {
      // A blank rest continues an item; text must reach its content.
      if (next - at < container.width) break;
      at += container.width;
    }
  }
  for (;;) {
    let next = at;
    while (line.charCodeAt(next) === SPACE) next++;
    if (next - at > 3) break;
    if (line[next] === '>') {
      // Deeper nesting goes to micromark, whose limits (limits.ts) answer it; this keeps each line's matching short.
      if (matched >= MAX_NESTING) return null;
      containers.length = matched;
      containers.push({ quote: true, width: 0 });
      matched = containers.length;
      at = line.charCodeAt(next + 1) === SPACE ? next + 2 : next + 1;
      quoted.paragraph = false;
      quoted.owner = null;
      continue;
    }
    const item = readItem(line, at);
    if (!item) break;
    if (item.empty) return null;
    if (item.number !== null && item.number !== '1' && interrupting) return null;
    if (matched === 0) return close(quoted);
    if (matched >= MAX_NESTING) return null;
    containers.length = matched;
    const depth = containers.filter((container) => !container.quote).length;
    containers.push({ quote: false, width: item.content });
    const block: ItemBlock = { kind: 'item', line: i + 1, depth, checked: item.checked, paragraph: { line: i + 1, index: item.textAt, endLine: i + 1 } };
    blocks.push(block);
    quoted.owner = block;
    quoted.paragraph = true;
    return 'quoted';
  }
  let text = at;
  while (line.charCodeAt(text) === SPACE) text++;
  if (text === line.length) {
    // Blank inside the containers it continued: the paragraph ends, the containers it did not reach close.
    if (matched === 0) return close(quoted);
    containers.length = matched;
    quoted.paragraph = false;
    quoted.owner = null;
    return 'quoted';
  }
  if (line[text] === '#' && text - at <= 3 && matched > 0) {
    // An ATX heading inside the quote: it interrupts a paragraph and is never a lazy line.
    const heading = ATX.exec(line.slice(text));
    const content = heading ? plainHeadingText(atxContent(line.slice(text)), labels) : null;
    if (content === null) return null;
    containers.length = matched;
    blocks.push({ kind: 'heading', line: i + 1, level: heading![1]!.length, atx: true, text: content });
    quoted.paragraph = false;
    quoted.owner = null;
    return 'quoted';
  }
  if (!startsProse(line, text)) return null;
  if (quoted.paragraph) {
    // Continuation text, lazy or not, of the open paragraph.
    if (quoted.owner) quoted.owner.paragraph!.endLine = i + 1;
    return 'quoted';
  }
  if (matched === 0) return close(quoted);
  if (text - at > 3) return null;
  containers.length = matched;
  quoted.paragraph = true;
  quoted.owner = null;
  return 'quoted';
}

/** Closes every container of `quoted`: the line is read as a top-level one. */
function close(quoted: Quoted): 'closed' {
  quoted.containers.length = 0;
  quoted.owner = null;
  return 'closed';
}

/** A setext heading's inline content: its paragraph's lines (column-0 prose, so without indentation) joined. */
function paragraphText(lines: readonly string[], first: number, underline: number): string {
  const text = underline === first + 1 ? lines[first]! : lines.slice(first, underline).join('\n');
  return trimSpacesEnd(text);
}

/** Whether a line starts with `>` after at most three spaces. */
function opensQuote(line: string, first: number): boolean {
  return first === 0x3e /* > */ || (first === SPACE && /^ {1,3}>/.test(line));
}

/**
 * Whether a `|` line and the next start a GFM table: both bound by pipes, no escapes (which would protect a
 * pipe), the second a row of delimiter cells, as many as the first has cells.
 */
function isTableStart(header: string, delimiter: string): boolean {
  const cells = (line: string) => {
    const row = trimSpacesEnd(line);
    if (row.length < 2 || row[0] !== '|' || row.at(-1) !== '|' || row.includes('\\')) return null;
    return row.slice(1, -1).split('|');
  };
  const head = cells(header);
  const rule = cells(delimiter);
  return head !== null && rule !== null && head.length === rule.length && rule.every((cell) => DELIMITER_CELL.test(cell));
}

interface Item {
  column: number;
  content: number;
  number: string | null;
  checked: boolean | null;
  textAt: number;
  /** Nothing but spaces after the marker: an item without a paragraph. */
  empty: boolean;
}

/**
 * A list item (`-`, `*`, `+`, or 1 to 9 digits and `.` or `)`, after spaces and tabs, then exactly one space)
 * whose content opens with a checkbox and a space, or with a word of prose, or an empty one (only spaces after
 * the marker), from index `from` on. `column`
 * is the marker's, counted from `from`, tabs stopping every 4 columns as CommonMark counts them, and
 * `content` the column of the item's content;
 * `number` is an ordered item's digits; `textAt` is the index in the line where the item's paragraph text
 * starts as GFM reports it: past the checkbox and one space for `[ ]`/`[x]`, at the box itself for `[-]`/`[~]`.
 */
function readItem(line: string, from = 0): Item | null {
  let at = from;
  let column = 0;
  for (let code = line.charCodeAt(at); code === SPACE || code === TAB; code = line.charCodeAt(++at)) {
    column = code === TAB ? column + 4 - (column % 4) : column + 1;
  }
  const marker = line[at];
  let after = at + 1;
  let number: string | null = null;
  if (marker !== '-' && marker !== '*' && marker !== '+') {
    let digits = at;
    while (digits - at < 9 && line.charCodeAt(digits) >= 0x30 && line.charCodeAt(digits) <= 0x39) digits++;
    if (digits === at || (line[digits] !== '.' && line[digits] !== ')')) return null;
    number = line.slice(at, digits);
    after = digits + 1;
  }
  let blank = after;
  while (line.charCodeAt(blank) === SPACE) blank++;
  if (blank === line.length) return { column, content: column + after + 1 - at, number, checked: null, textAt: after, empty: true };
  if (line.charCodeAt(after) !== SPACE) return null;
  const content = after + 1;
  const item = { column, content: column + content - at, number, empty: false };
  if (line[content] === '[') {
    const box = line[content + 1];
    const next = line.charCodeAt(content + 4);
    if (line[content + 2] !== ']' || line.charCodeAt(content + 3) !== SPACE || Number.isNaN(next) || next === SPACE || next === TAB) {
      return null;
    }
    if (box === ' ') return { ...item, checked: false, textAt: content + 4 };
    if (box === 'x' || box === 'X') return { ...item, checked: true, textAt: content + 4 };
    if (box === '-' || box === '~') return { ...item, checked: null, textAt: content };
    return null;
  }
  return startsProse(line, content) ? { ...item, checked: null, textAt: content } : null;
}

/**
 * Whether text at `at` can only open a paragraph: a letter, digits not followed by `.` or `)` (which could
 * make an ordered list marker), or emphasis or code markers that cannot form a list marker, a thematic break
 * or a fence (`*x`, `**x`, `_x`, `__x`, `` `x ``, ``` ``x ```). `#`, `>`, `<`, `[`, `|` and the like are left
 * to micromark.
 */
function startsProse(line: string, at: number): boolean {
  const char = line[at];
  if (char === undefined) return false;
  if (char === '*' || char === '_' || char === '`') {
    const next = line[at + 1] === char ? at + 2 : at + 1;
    const after = line[next];
    return after !== undefined && after !== char && after !== ' ' && after !== '\t';
  }
  if (char >= '0' && char <= '9') {
    let end = at + 1;
    while (line[end]! >= '0' && line[end]! <= '9') end++;
    return line[end] !== '.' && line[end] !== ')';
  }
  // Two code units: a letter outside the BMP is a surrogate pair.
  return LETTER.test(line.slice(at, at + 2));
}
