import type { Nodes, Root } from 'mdast';
import { fromMarkdown } from 'mdast-util-from-markdown';
import { gfmFromMarkdown } from 'mdast-util-gfm';
import { gfm } from 'micromark-extension-gfm';
import type { MicromarkBudget } from './limits.js';
import type { Block } from './markdown.js';
import { collapseWhitespace } from './whitespace.js';

// Reads a piece of the document with micromark (CommonMark + GFM, as GitHub renders it) into blocks.

// Built once: the extensions hold construct tables only, no per-document state.
const GFM = { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] };

/**
 * An empty ATX heading put after a piece that does not end the document. It ends every paragraph, list,
 * block quote and table as the line that really follows (a cut) does, but a fenced code or HTML block
 * left open swallows it, which is how a piece that ends inside one is recognised.
 */
const SENTINEL = '#';

/** A list item that opens with a checkbox (GFM's or a dropped `[-]`/`[~]`), split after its first character. */
const CHECKBOX_LINE = /^( *(?:[-*+]|\d{1,9}[.)])[ \t]+\[[ xX~-]\][ \t]+[^\s<>|])[^<>|]*$/u;

/**
 * Drops the tail of a checkbox line: it is paragraph text, which decides nothing about the blocks (the
 * text itself is read from the original lines). Lines holding `<`, `>` or `|` stay whole, because those
 * can end an HTML block or form a table. This halves micromark's time on checkbox lines.
 */
export function shorten(line: string): string {
  const match = CHECKBOX_LINE.exec(line);
  return match ? match[1]! : line;
}

/** What a piece holds: its blocks, or `open`, and the definitions found in it (see `definitionLine`). */
export interface Piece {
  blocks: Block[];
  /** The piece ends inside a block that the lines after it could continue; its blocks are then not known. */
  open: boolean;
  definitions: string[];
}

/**
 * The blocks of `lines[start..end)`, numbered as lines of the whole document, the checkbox lines
 * shortened first when `cut` is set. `definitions` (lines from `definitionLine`) are put before the piece
 * so that its references resolve as they do in the whole document. `budget` is charged for what micromark is given.
 */
export function readPiece(
  lines: readonly string[],
  start: number,
  end: number,
  cut: boolean,
  definitions: readonly string[] = [],
  budget?: MicromarkBudget,
): Piece {
  const more = end < lines.length;
  const preamble = preambleOf(definitions);
  const piece = [...preamble, ...lines.slice(start, end)];
  if (cut) for (let i = preamble.length; i < piece.length; i++) piece[i] = shorten(piece[i]!);
  if (more) piece.push(SENTINEL);
  const tree = parseAfter(preamble.length, piece, budget, start + 1);
  if (more) {
    const last = tree.children.at(-1);
    if (last?.type !== 'heading' || last.position?.start.line !== piece.length) return { blocks: [], open: true, definitions: [] };
    tree.children.pop();
    // micromark keeps indented code going across blank lines (more code may follow), and a line after it is
    // then read as interrupting it: `2)` or an empty `-` no longer starts a list. So code before the cut
    // means the next piece would not start afresh either.
    if (tree.children.at(-1)?.type === 'code') return { blocks: [], open: true, definitions: [] };
  }
  const blocks: Block[] = [];
  const found: string[] = [];
  collect(tree, lineStarts(piece), start - preamble.length, blocks, found);
  return { blocks, open: false, definitions: found };
}

/**
 * The text of ATX heading lines (each starting at column 0) as micromark reads it, many headings in one
 * parse: a heading is one line and its inline content never reaches past it, so where the lines stand in
 * the document changes nothing but which definitions they see, which `definitions` supplies.
 */
export function readHeadingTexts(
  headingLines: readonly string[],
  definitions: readonly string[] = [],
  budget?: MicromarkBudget,
  line = 1,
): string[] {
  const preamble = preambleOf(definitions);
  const tree = parseAfter(preamble.length, [...preamble, ...headingLines], budget, line);
  const texts = tree.children.flatMap((node) => (node.type === 'heading' ? [plainText(node)] : []));
  if (texts.length !== headingLines.length) throw new Error('a heading line did not read as one heading');
  return texts;
}

/**
 * What goes before a piece so that it sees `definitions`: each followed by a blank line (a footnote
 * definition would take the next line as its text), then an empty heading. That ends a footnote
 * definition, which would otherwise take the piece's indented lines, and like the start of a document
 * it leaves nothing open that the piece's first line could continue or interrupt.
 */
function preambleOf(definitions: readonly string[]): string[] {
  return definitions.length === 0 ? [] : [...definitions.flatMap((line) => [line, '']), SENTINEL];
}

/** The tree of `lines`, without the nodes of the first `preamble` lines; `budget` is charged for all of it (see limits.ts). */
function parseAfter(preamble: number, lines: readonly string[], budget: MicromarkBudget | undefined, line: number): Root {
  const text = lines.join('\n');
  budget?.spend(text.length, line);
  const tree = fromMarkdown(text, GFM);
  if (preamble > 0) tree.children = tree.children.filter((node) => (node.position?.start.line ?? 0) > preamble);
  return tree;
}

/**
 * A line defining what a definition node defines, for putting before other pieces: references resolve by
 * normalised label only (case and inner whitespace folded), so the node's identifier in place of its label
 * defines the same, and destination and title never reach a heading's text or an item's position.
 */
function definitionLine(node: Nodes): string | null {
  if (node.type === 'definition') return `[${node.identifier}]: x`;
  if (node.type === 'footnoteDefinition') return `[^${node.identifier}]: x`;
  return null;
}

/** Where each line of a piece starts in its text: offsets, not columns (which count a tab as several), are exact. */
function lineStarts(piece: readonly string[]): number[] {
  const starts: number[] = [];
  for (let i = 0, at = 0; i < piece.length; i++) {
    starts.push(at);
    at += piece[i]!.length + 1;
  }
  return starts;
}

/** Walks the tree in document order without recursion (nesting depth is the document's to choose), noting definitions. */
function collect(tree: Root, starts: readonly number[], lineOffset: number, out: Block[], definitions: string[]): void {
  const stack: { node: Nodes; depth: number }[] = [{ node: tree, depth: 0 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    const start = node.position?.start;
    const definition = definitionLine(node);
    if (definition !== null) definitions.push(definition);
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
  return collapseWhitespace(text);
}
