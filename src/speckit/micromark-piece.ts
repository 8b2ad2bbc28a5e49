import type { Nodes, Root } from 'mdast';
import { fromMarkdown } from 'mdast-util-from-markdown';
import { gfmFromMarkdown } from 'mdast-util-gfm';
import { gfm } from 'micromark-extension-gfm';
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

/**
 * The blocks of `lines[start..end)`, numbered as lines of the whole document, the checkbox lines
 * shortened first when `cut` is set. `open` is true when the piece ends inside a block that the lines
 * after it could continue; its blocks are then not known.
 */
export function readPiece(lines: readonly string[], start: number, end: number, cut: boolean): { blocks: Block[]; open: boolean } {
  const more = end < lines.length;
  const piece = lines.slice(start, end);
  if (cut) for (let i = 0; i < piece.length; i++) piece[i] = shorten(piece[i]!);
  if (more) piece.push(SENTINEL);
  const tree = fromMarkdown(piece.join('\n'), GFM);
  if (more) {
    const last = tree.children.at(-1);
    if (last?.type !== 'heading' || last.position?.start.line !== end - start + 1) return { blocks: [], open: true };
    tree.children.pop();
    // micromark keeps indented code going across blank lines (more code may follow), and a line after it is
    // then read as interrupting it: `2)` or an empty `-` no longer starts a list. So code before the cut
    // means the next piece would not start afresh either.
    if (tree.children.at(-1)?.type === 'code') return { blocks: [], open: true };
  }
  const blocks: Block[] = [];
  collect(tree, lineStarts(piece), start, blocks);
  return { blocks, open: false };
}

/**
 * The text of ATX heading lines (each starting at column 0) as micromark reads it, many headings in one
 * parse: a heading is one line and its inline content never reaches past it, so where the lines stand in
 * the document changes nothing but which link definitions they see (see `readBlocks`).
 */
export function readHeadingTexts(headingLines: readonly string[]): string[] {
  const tree = fromMarkdown(headingLines.join('\n'), GFM);
  const texts = tree.children.map((node) => (node.type === 'heading' ? plainText(node) : null));
  if (texts.length !== headingLines.length || texts.includes(null)) throw new Error('a heading line did not read as one heading');
  return texts as string[];
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
  return collapseWhitespace(text);
}
