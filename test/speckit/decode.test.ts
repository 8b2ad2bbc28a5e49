import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { decodeLines } from '../../src/speckit/decode.js';
import { SpecErrorCode } from '../../src/speckit/index.js';

/** The reference: the whole file through a fatal UTF-8 decoder (which drops one leading BOM), then split. */
function reference(bytes: Uint8Array): string[] | 'invalid' {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes).split(/\r\n|\r|\n/);
  } catch {
    return 'invalid';
  }
}

function lines(bytes: Uint8Array): string[] | 'invalid' {
  const decoded = decodeLines(bytes, 'tasks.md');
  return 'lines' in decoded ? decoded.lines : 'invalid';
}

describe('decodeLines reads bytes as a fatal UTF-8 decoder would, line by line', () => {
  test('any bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(lines(bytes)).toEqual(reference(bytes));
      }),
      { numRuns: 3000 },
    );
  });

  test('any text with BOMs, every line ending and characters of every width, in a larger buffer (property)', () => {
    const unit = fc.oneof(
      fc.constantFrom('\r\n', '\r', '\n', '\uFEFF', 'é', '準', '🎯', '\u2028', '\u0000', '- [ ] T001 '),
      fc.string({ unit: 'grapheme', maxLength: 3 }),
    );
    fc.assert(
      fc.property(fc.array(unit, { maxLength: 30 }), fc.nat({ max: 7 }), fc.boolean(), (units, offset, badByte) => {
        const text = new TextEncoder().encode(units.join(''));
        // A view into a larger buffer, as a Buffer read from disk can be; sometimes with a bad byte in it.
        const backing = new Uint8Array(offset + text.length + 3).fill(0xff);
        backing.set(text, offset);
        if (badByte && text.length > 0) backing[offset + (text.length >> 1)] = 0xc0;
        const bytes = backing.subarray(offset, offset + text.length);
        expect(lines(bytes)).toEqual(reference(bytes));
      }),
      { numRuns: 3000 },
    );
  });

  test('a bad byte is reported with its line, as before', () => {
    const decoded = decodeLines(new Uint8Array([0x61, 0x0d, 0x0a, 0x62, 0x0d, 0xe6, 0x97]), 'bad.md');
    expect(decoded).toEqual({ error: expect.objectContaining({ code: SpecErrorCode.NOT_UTF8, file: 'bad.md', line: 3 }) });
  });
});
