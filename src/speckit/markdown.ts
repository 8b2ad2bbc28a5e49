import type { Nodes, Root } from 'mdast';
import { fromMarkdown } from 'mdast-util-from-markdown';
import { gfmFromMarkdown } from 'mdast-util-gfm';
import { gfm } from 'micromark-extension-gfm';

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
  /** Cut the text of checkbox lines short before parsing (see `shorten`). */
  shorten?: boolean;
  /** Parse in pieces of about this many characters (see `readBlocks`). */
  chunkChars?: number;
}

const BLANK = /^[ \t]*$/;
const ATX_START = /^#{1,6}(?:[ \t]|$)/;

/**
 * Reads the blocks of a document given as lines (line endings removed).
 *
 * micromark's cost grows faster than the document (a 1 MB tasks.md takes seconds in one piece), so the
 * document is parsed in pieces cut only where no construct can continue across the cut: before a line at
 * column 0 that is an ATX heading or follows a blank line. Such a line closes every list item, block
 * quote, paragraph, table and indented code; only a fenced code block or an HTML block can still be
 * open, so a piece whose last block is one of those is grown to the next cut and parsed again.
 * Link reference definitions do cross pieces, but they change inline links only, which nothing here reads.
 */
export function readBlocks(lines: readonly string[], options: ReadOptions = {}): Block[] {
  const { shorten: cut = true, chunkChars = 4_000 } = options;
  const source = cut ? lines.map(shorten) : lines;
  const blocks: Block[] = [];
  let start = 0;
  while (start < source.length) {
    let want = chunkChars;
    let end = nextCut(source, start, want);
    let tree = parse(source, start, end);
    while (end < source.length && endsOpen(tree)) {
      want *= 2;
      end = nextCut(source, start, want);
      tree = parse(source, start, end);
    }
    collect(tree, lineStarts(source, start, end), start, blocks);
    start = end;
  }
  return blocks;
}

/** A list item that opens with a checkbox (GFM's or a dropped `[-]`/`[~]`), split after its first character. */
const CHECKBOX_LINE = /^( *(?:[-*+]|\d{1,9}[.)])[ \t]+\[[ xX~-]\][ \t]+[^\s<>|])[^<>|]*$/u;

/**
 * Drops the tail of a checkbox line: it is paragraph text, which decides nothing about the blocks (the
 * text itself is read from the original lines). Lines holding `<`, `>` or `|` stay whole, because those
 * can end an HTML block or form a table. This halves the parsing time of a typical tasks.md.
 */
export function shorten(line: string): string {
  const match = CHECKBOX_LINE.exec(line);
  return match ? match[1]! : line;
}

/** The index of the first line at or after `from + 1` where a piece may start, once `want` characters are taken. */
function nextCut(lines: readonly string[], from: number, want: number): number {
  let taken = lines[from]!.length + 1;
  for (let i = from + 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (taken >= want && line !== '' && line[0] !== ' ' && line[0] !== '\t' && (ATX_START.test(line) || BLANK.test(lines[i - 1]!))) {
      return i;
    }
    taken += line.length + 1;
  }
  return lines.length;
}

// Built once: the extensions hold construct tables only, no per-document state.
const GFM = { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] };

function parse(lines: readonly string[], start: number, end: number): Root {
  return fromMarkdown(lines.slice(start, end).join('\n'), GFM);
}

/** Whether the piece ends in a block that the next line could continue: fenced code or HTML. */
function endsOpen(tree: Root): boolean {
  const last = tree.children.at(-1);
  return last !== undefined && (last.type === 'code' || last.type === 'html');
}

/** Where each line of a piece starts in its text: offsets, not columns (which count a tab as several), are exact. */
function lineStarts(lines: readonly string[], start: number, end: number): number[] {
  const starts: number[] = [];
  for (let i = start, at = 0; i < end; i++) {
    starts.push(at);
    at += lines[i]!.length + 1;
  }
  return starts;
}

/** Walks the tree in document order without recursion (nesting depth is the document's to choose). */
function collect(tree: Root, starts: readonly number[], lineOffset: number, out: Block[]): void {
  const stack: { node: Nodes; depth: number }[] = [{ node: tree, depth: 0 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    const start = node.position?.start;
    if (node.type === 'heading' && start) {
      const atx = start.line === node.position!.end.line;
      out.push({ kind: 'heading', line: start.line + lineOffset, level: node.depth, atx, text: plainText(node) });
      continue;
    }
    let childDepth = depth;
    if (node.type === 'listItem' && start) {
      const first = node.children[0];
      const paragraph = first?.type === 'paragraph' ? first : undefined;
      let at = paragraph?.position?.start;
      // GFM moves the paragraph's start past the checkbox only when plain text follows it (not `**T001**`);
      // the first inline node always starts past it.
      const head = paragraph?.children[0]?.position?.start;
      if (at && head && typeof node.checked === 'boolean' && (head.offset ?? 0) > (at.offset ?? 0)) at = head;
      out.push({
        kind: 'item',
        line: start.line + lineOffset,
        depth,
        checked: node.checked ?? null,
        paragraph:
          at && paragraph?.position
            ? {
                line: at.line + lineOffset,
                index: (at.offset ?? 0) - starts[at.line - 1]!,
                endLine: paragraph.position.end.line + lineOffset,
              }
            : null,
      });
      childDepth = depth + 1;
    }
    if ('children' in node) {
      for (let i = node.children.length - 1; i >= 0; i--) stack.push({ node: node.children[i]!, depth: childDepth });
    }
  }
}

/** The text a reader sees in a heading; inline code keeps its backticks so titles read as written. */
function plainText(node: Nodes): string {
  let text = '';
  const stack: Nodes[] = [node];
  while (stack.length > 0) {
    const current = stack.pop()!;
    if (current.type === 'text' || current.type === 'html') text += current.value;
    else if (current.type === 'inlineCode') text += '`' + current.value + '`';
    else if (current.type === 'break') text += ' ';
    else if (current.type === 'image' || current.type === 'imageReference') text += current.alt ?? '';
    else if ('children' in current) {
      if (current.type === 'linkReference' && current.referenceType !== 'full') {
        // `[P]` resolved against a definition elsewhere still reads as `[P]`.
        stack.push({ type: 'text', value: ']' }, ...[...current.children].reverse(), { type: 'text', value: '[' });
        continue;
      }
      for (let i = current.children.length - 1; i >= 0; i--) stack.push(current.children[i]!);
    }
  }
  return text.replace(/\s+/g, ' ').trim();
}
