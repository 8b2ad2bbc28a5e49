import { isUtf8 } from 'node:buffer';
import { SpecErrorCode, type SpecError } from './types.js';

const BOM = '\uFEFF';
/** Markdown ends a line at CRLF, LF or a lone CR; splitting the same way keeps line numbers identical. */
const LINE_END = /\r\n|\r|\n/;
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * Turns what was read into lines of text: bytes must be UTF-8, a leading byte-order mark is dropped.
 * A string is taken as already decoded.
 */
export function decodeLines(input: string | Uint8Array, file: string): { lines: string[] } | { error: SpecError } {
  if (typeof input === 'string') return { lines: (input.startsWith(BOM) ? input.slice(1) : input).split(LINE_END) };
  if (!isUtf8(input)) return { error: notUtf8(input, file) };
  // One character beyond Latin-1 makes a decoded file one two-byte string, which costs three times as much
  // for a large file. Each byte read as one character is already exact for ASCII lines (line ends are
  // ASCII bytes), so only the other lines are decoded, from those same bytes.
  const lines = Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('latin1').split(LINE_END);
  for (let i = 0; i < lines.length; i++) {
    if (NON_ASCII.test(lines[i]!)) lines[i] = Buffer.from(lines[i]!, 'latin1').toString('utf8');
  }
  if (lines[0]!.startsWith(BOM)) lines[0] = lines[0]!.slice(1);
  return { lines };
}

function notUtf8(input: Uint8Array, file: string): SpecError {
  const offset = firstInvalidByte(input);
  return {
    code: SpecErrorCode.NOT_UTF8,
    file,
    line: lineOfByte(input, offset),
    message:
      `${file} is not valid UTF-8 (first bad byte 0x${input[offset]?.toString(16).padStart(2, '0') ?? '??'} ` +
      `at byte offset ${offset}). Re-save the file as UTF-8 and push it again.`,
  };
}

/**
 * The offset of the byte at which the decoder first gives up. A streaming decoder accepts a prefix that
 * only ends mid-character, so validity of prefixes is monotone and a binary search finds the spot.
 * Only called on the error path.
 */
function firstInvalidByte(bytes: Uint8Array): number {
  let valid = 0; // longest prefix known to decode
  let invalid = bytes.length; // shortest prefix known to fail
  while (invalid - valid > 1) {
    const mid = (valid + invalid) >>> 1;
    if (decodesAsPrefix(bytes.subarray(0, mid))) valid = mid;
    else invalid = mid;
  }
  return invalid - 1;
}

function decodesAsPrefix(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: true });
    return true;
  } catch {
    return false;
  }
}

/** 1-based line of a byte, counting CRLF, LF and a lone CR as one line ending each (as Markdown does). */
function lineOfByte(bytes: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) {
    if (bytes[i] === 0x0a || (bytes[i] === 0x0d && bytes[i + 1] !== 0x0a)) line++;
  }
  return line;
}
