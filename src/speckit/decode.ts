import { SpecErrorCode, type SpecError } from './types.js';

const BOM = '\uFEFF';

/**
 * Turns what was read into text: bytes must be UTF-8, a leading byte-order mark is dropped.
 * A string is taken as already decoded.
 */
export function decodeTasks(input: string | Uint8Array, file: string): { text: string } | { error: SpecError } {
  if (typeof input === 'string') return { text: input.startsWith(BOM) ? input.slice(1) : input };
  try {
    // `ignoreBOM: false` (the default) already drops a leading BOM.
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(input) };
  } catch {
    const offset = firstInvalidByte(input);
    return {
      error: {
        code: SpecErrorCode.NOT_UTF8,
        file,
        line: lineOfByte(input, offset),
        message:
          `${file} is not valid UTF-8 (first bad byte 0x${input[offset]?.toString(16).padStart(2, '0') ?? '??'} ` +
          `at byte offset ${offset}). Re-save the file as UTF-8 and push it again.`,
      },
    };
  }
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
