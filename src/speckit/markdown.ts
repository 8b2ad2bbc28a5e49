import { atxContent, definedLabels, plainHeadingText } from './heading-text.js';
import { checkDefinitions, checkHeading, checkPiece, MAX_BLOCK_CHARS, MAX_SETEXT_PER_PIECE, MicromarkBudget, setextUnderlines } from './limits.js';
import { readHeadingTexts, readPiece } from './micromark-piece.js';
import { readSimpleRegions, type SimpleReading } from './simple-region.js';

export { shorten } from './micromark-piece.js';

// The block structure of a tasks file as GitHub renders it (CommonMark + GFM task lists): the headings
// and the list items, with their lines. Everything else about a line's meaning is read in parse.ts.

export interface HeadingBlock {
  kind: 'heading';
  /** 1-based. */
  line: number;
  level: number;
  /** `# text` (a phase can only be this kind), as opposed to a setext heading underlined by `===`/`---`. */
  atx: boolean;
  /** Plain text of the heading; inline code keeps its backticks. */
  text: string;
}

export interface ItemBlock {
  kind: 'item';
  line: number;
  /** How many list items enclose this one. */
  depth: number;
  /** GFM's verdict: true for `[x]`/`[X]`, false for `[ ]`, null when the item has no checkbox. */
  checked: boolean | null;
  /** Where the item's first paragraph starts (after a GFM checkbox): line, index in that line, last line. */
  paragraph: { line: number; index: number; endLine: number } | null;
}

export type Block = HeadingBlock | ItemBlock;

export interface ReadOptions {
  /** Cut the text of checkbox lines short before micromark parses them (see `shorten`). */
  shorten?: boolean;
  /**
   * Give micromark pieces of about this many characters (see `readBlocks`). `Infinity` parses the whole
   * document in one micromark call and reads nothing without it: the reference the tests compare against.
   */
  chunkChars?: number;
  /** Read regions of simple lines without micromark (see simple-region.ts). */
  simple?: boolean;
  /** Told the 0-based line each region starts at, as reading reaches it (a worker reports it when stopped). */
  progress?: (line: number) => void;
  /** What micromark may be given over the whole reading (see limits.ts); a fresh MAX_MICROMARK_CHARS budget unless given. */
  budget?: MicromarkBudget;
}

const BLANK = /^[ \t]*$/;
const ATX_START = /^#{1,6}(?:[ \t]|$)/;

/**
 * Reads the blocks of a document given as lines (line endings removed).
 *
 * micromark's cost grows faster than the document (a 1 MB tasks.md takes seconds in one piece) and is
 * high even in small pieces (about 3 MB/s), so the document is cut into regions where no construct can
 * continue across the cut: before a line at column 0 that is an ATX heading or follows a blank line.
 * Such a line closes every list item, block quote, paragraph, table and indented code; only a fenced code
 * block or an HTML block can still be open. Regions made only of lines whose block structure is certain
 * from the lines themselves (most of a tasks.md: checkbox items, headings, prose, fenced code; also setext
 * headings, ordered items, tables, definitions, quotes) are read directly (see simple-region.ts); the
 * others are parsed by micromark, consecutive ones together up to `chunkChars`.
 * A micromark piece that ends inside fenced code or HTML, or in indented code, is grown over the following
 * regions, whatever they hold, and parsed again, so nothing is read directly unless it starts afresh.
 * Where link or footnote definitions are found (by micromark or read directly), everything is read again
 * with them known: micromark pieces get them before their lines, and heading text naming a defined label
 * goes to micromark.
 */
export function readBlocks(lines: readonly string[], options: ReadOptions = {}): Block[] {
  const { shorten: cut = true, chunkChars = 4_000, simple = true, progress = () => {}, budget = new MicromarkBudget() } = options;
  if (chunkChars === Infinity) return readPiece(lines, 0, lines.length, cut).blocks;
  const first = readRegions(lines, { cut, chunkChars, simple, progress, budget }, []);
  if (first.definitions.length === 0) return first.blocks;
  // A link or footnote definition makes references resolve anywhere in the document, so where there are
  // some, the pieces micromark reads are read again with every one of them known. Their number is checked
  // where micromark is given them (see `readRegions`): a file read directly needs no limit on it.
  const definitions = [...new Set(first.definitions)];
  return readRegions(lines, { cut, chunkChars, simple, progress, budget }, definitions, first.firstDefinitionLine).blocks;
}

type Reading = { cut: boolean; chunkChars: number; simple: boolean; progress: (line: number) => void; budget: MicromarkBudget };

/**
 * One reading of every region (see `readBlocks`), micromark seeing `definitions` in every piece. Each piece
 * is checked against the limits of limits.ts before micromark sees it, so its cost stays linear; so is the
 * number of definitions, first found at line `definitionLine`, which every piece micromark reads is given.
 */
function readRegions(lines: readonly string[], { cut, chunkChars, simple, progress, budget }: Reading, definitions: readonly string[], definitionLine = 0) {
  const cuts = cutPoints(lines);
  const regions = cuts.length - 1;
  // The simple reading from each region on, computed once: null when micromark must read the region.
  const known: (SimpleReading | null | undefined)[] = [];
  const labels = definedLabels(definitions);
  const simpleFrom = (region: number) => {
    if (known[region] === undefined) known[region] = simple ? readSimpleRegions(lines, cuts, region, labels) : null;
    return known[region];
  };
  const size = (region: number) => {
    let chars = 0;
    for (let i = cuts[region]!; i < cuts[region + 1]!; i++) chars += lines[i]!.length + 1;
    return chars;
  };
  const blocks: Block[] = [];
  const inline: HeadingBlock[] = [];
  const found: string[] = [];
  let firstDefinitionLine = 0;
  let region = 0;
  while (region < regions) {
    progress(cuts[region]!);
    const direct = simpleFrom(region);
    if (direct) {
      for (const block of direct.blocks) blocks.push(block);
      for (const heading of direct.inline) inline.push(heading);
      if (direct.definitions.length > 0 && found.length === 0) firstDefinitionLine = direct.definitionLine;
      for (const definition of direct.definitions) found.push(definition);
      region = direct.next;
      continue;
    }
    let end = region + 1;
    let chars = size(region);
    let setext = setextUnderlines(lines, cuts[region]!, cuts[end]!);
    // Consecutive regions go together up to `chunkChars`, never over the limits one piece may hold.
    while (end < regions && chars < chunkChars && !simpleFrom(end)) {
      const more = setextUnderlines(lines, cuts[end]!, cuts[end + 1]!);
      if (setext + more > MAX_SETEXT_PER_PIECE || chars + size(end) > MAX_BLOCK_CHARS) break;
      setext += more;
      chars += size(end++);
    }
    checkDefinitions(definitions, definitionLine);
    checkPiece(lines, cuts[region]!, cuts[end]!);
    let piece = readPiece(lines, cuts[region]!, cuts[end]!, cut, definitions, budget);
    while (piece.open) {
      // Doubling keeps the re-parsing linear in the end.
      const want = chars * 2;
      do chars += size(end++);
      while (end < regions && chars < want);
      checkPiece(lines, cuts[region]!, cuts[end]!, true);
      piece = readPiece(lines, cuts[region]!, cuts[end]!, cut, definitions, budget);
    }
    for (const block of piece.blocks) blocks.push(block);
    if (piece.definitions.length > 0 && found.length === 0) firstDefinitionLine = cuts[region]! + 1;
    for (const definition of piece.definitions) found.push(definition);
    region = end;
  }
  readInlineHeadings(inline, lines, chunkChars, definitions, labels, definitionLine, budget);
  return { blocks, definitions: found, firstDefinitionLine };
}

/**
 * Fills in the text of headings read directly whose text needs inline parsing: read directly where
 * heading-text.ts can, the rest a batch of lines per micromark call.
 */
function readInlineHeadings(
  headings: readonly HeadingBlock[],
  lines: readonly string[],
  chunkChars: number,
  definitions: readonly string[],
  labels: ReadonlySet<string>,
  definitionLine: number,
  budget: MicromarkBudget,
): void {
  const left: HeadingBlock[] = [];
  for (const heading of headings) {
    const text = plainHeadingText(atxContent(lines[heading.line - 1]!), labels);
    if (text === null) left.push(heading);
    else heading.text = text;
  }
  if (left.length > 0) checkDefinitions(definitions, definitionLine);
  for (let first = 0; first < left.length; ) {
    const batch: string[] = [];
    let chars = 0;
    while (first + batch.length < left.length && chars < chunkChars) {
      const { line: number } = left[first + batch.length]!;
      const line = lines[number - 1]!;
      checkHeading(line, number);
      batch.push(line);
      chars += line.length + 1;
    }
    readHeadingTexts(batch, definitions, budget, left[first]!.line).forEach((text, i) => (left[first + i]!.text = text));
    first += batch.length;
  }
}

/** Every line where a region may start (see `readBlocks`), from 0, ending with the line count. */
export function cutPoints(lines: readonly string[]): number[] {
  const cuts = [0];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line !== '' && line[0] !== ' ' && line[0] !== '\t' && (ATX_START.test(line) || BLANK.test(lines[i - 1]!))) cuts.push(i);
  }
  cuts.push(lines.length);
  return cuts;
}
