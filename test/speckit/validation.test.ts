import { describe, expect, test } from 'vitest';
import { discover, parseTasks, SpecErrorCode, type Discovery } from '../../src/speckit/index.js';
import { fixture } from './fixtures.js';

function errorsOf(discovery: Discovery) {
  if (discovery.status !== 'INVALID') throw new Error(`expected INVALID, got ${discovery.status}`);
  return discovery.errors;
}

describe('validation errors name the file and line, never a silent "no work"', () => {
  test('empty file', () => {
    expect(errorsOf(discover(fixture('empty.md'), 'specs/001-x/tasks.md'))).toEqual([
      { code: SpecErrorCode.EMPTY, file: 'specs/001-x/tasks.md', line: 1, message: expect.stringContaining('/speckit.tasks') },
    ]);
    expect(errorsOf(discover(' \n\t\r\n'))[0]!.code).toBe(SpecErrorCode.EMPTY);
    expect(errorsOf(discover(new Uint8Array([0xef, 0xbb, 0xbf])))[0]!.code).toBe(SpecErrorCode.EMPTY);
  });

  test('no phase heading: points at the first checkbox (decoy "Phase Dependencies" is no phase)', () => {
    const [error] = errorsOf(discover(fixture('no-phase.md'), 'no-phase.md'));
    expect(error).toMatchObject({ code: SpecErrorCode.NO_PHASE_HEADING, file: 'no-phase.md', line: 4 });
    expect(error!.message).toContain('## Phase 1: Setup');
    expect(errorsOf(discover('# Just a title\n\nSome prose.\n'))[0]).toMatchObject({ code: SpecErrorCode.NO_PHASE_HEADING, line: 1 });
  });

  test('phases but no checkbox anywhere: points at the first phase heading', () => {
    expect(errorsOf(discover(fixture('no-tasks.md'), 'no-tasks.md'))).toEqual([
      { code: SpecErrorCode.NO_TASKS, file: 'no-tasks.md', line: 3, message: expect.stringContaining('no task checkbox') },
    ]);
  });

  test('checkboxes, but none inside a phase: points at the first checkbox', () => {
    expect(errorsOf(discover(fixture('outside-only.md')))[0]).toMatchObject({ code: SpecErrorCode.TASKS_OUTSIDE_PHASES, line: 6 });
  });

  test('bytes that are not UTF-8: the line of the first bad byte', () => {
    const good = new TextEncoder().encode('## Phase 1: Setup\r\n- [ ] T001 caf\u00e9\r\n- [ ] T002 ');
    const bytes = new Uint8Array([...good, 0xff, 0x0a]);
    const [error] = errorsOf(discover(bytes, 'bad.md'));
    expect(error).toMatchObject({ code: SpecErrorCode.NOT_UTF8, file: 'bad.md', line: 3 });
    expect(error!.message).toContain('0xff');
    // A truncated multi-byte character at the very end is invalid too.
    expect(errorsOf(discover(new Uint8Array([...good, 0xe6, 0x97])))[0]).toMatchObject({ code: SpecErrorCode.NOT_UTF8, line: 3 });
    // An overlong encoding on line 1.
    expect(errorsOf(discover(new Uint8Array([0xc0, 0xaf])))[0]).toMatchObject({ code: SpecErrorCode.NOT_UTF8, line: 1 });
  });
});

describe('line endings and encodings are read correctly', () => {
  const lf = fixture('template.md').toString('utf8');
  const reference = discover(lf);

  test('CRLF keeps every line number', () => {
    const crlf = discover(Buffer.from(lf.replace(/\n/g, '\r\n')));
    expect(crlf).toEqual(reference);
    expect(crlf.status === 'PHASE' && crlf.phase.openTasks.map((t) => t.line)).toEqual([39, 43, 44]);
  });

  test('a lone CR ends a line as well', () => {
    expect(discover(lf.replace(/\n/g, '\r'))).toEqual(reference);
  });

  test('a byte-order mark is dropped, from bytes and from strings', () => {
    expect(discover(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(lf)]))).toEqual(reference);
    expect(discover('\uFEFF' + lf)).toEqual(reference);
  });

  test('no final newline: the last task is still read', () => {
    const text = '## Phase 1: Setup\n- [x] T001 a\n\n## Phase 2: Core\n- [ ] T002 last line';
    const discovery = discover(text);
    expect(discovery.status === 'PHASE' && discovery.phase.openTasks).toMatchObject([{ id: 'T002', line: 5, description: 'last line' }]);
    expect(discover(text.replace(/\n/g, '\r\n'))).toEqual(discovery);
  });

  test('string and bytes of the same text give the same answer', () => {
    expect(discover(fixture('unicode.md'))).toEqual(discover(fixture('unicode.md').toString('utf8')));
  });
});

describe('parseTasks', () => {
  test('returns every phase and task, with errors empty for a usable file', () => {
    const parsed = parseTasks(fixture('out-of-order.md'), 'out-of-order.md');
    expect(parsed.errors).toEqual([]);
    expect(parsed.file).toBe('out-of-order.md');
    expect(parsed.phases).toEqual([
      { id: '1', title: 'Setup', line: 3, level: 2, parent: null },
      { id: '2', title: 'Core', line: 7, level: 2, parent: null },
      { id: '3', title: 'Polish', line: 11, level: 2, parent: null },
    ]);
    expect(parsed.tasks[0]).toEqual({
      id: 'T001',
      state: 'done',
      line: 4,
      depth: 0,
      parallel: false,
      story: null,
      description: 'Done',
      phase: { id: '1', title: 'Setup', line: 3 },
    });
  });
});
