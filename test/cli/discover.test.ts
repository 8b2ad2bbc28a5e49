import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FIXTURES, fixture } from '../speckit/fixtures.js';
import { spawnSpecChain } from '../support/cli.js';

const run = (...argv: string[]) => spawnSpecChain(['discover', ...argv]);

describe('npx spec-chain discover', () => {
  let repo: string;
  beforeAll(async () => {
    repo = await mkdtemp(join(tmpdir(), 'speckit-cli-'));
    await mkdir(join(repo, 'specs', '001-chain'), { recursive: true });
    await mkdir(join(repo, '.specify'), { recursive: true });
    await writeFile(join(repo, 'specs', '001-chain', 'tasks.md'), fixture('nested.md'));
    await writeFile(join(repo, '.specify', 'feature.json'), JSON.stringify({ feature_directory: 'specs/001-chain' }));
  });
  afterAll(async () => {
    await rm(repo, { recursive: true, force: true });
  });

  test('a phase is next: exit 0, id, title, line and open task ids', async () => {
    const file = join(FIXTURES, 'template.md');
    const { code, stdout, stderr } = await run(file);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toContain(`Phase 3: User Story 1 - Start a chain (Priority: P1) 🎯 MVP (${file}:32)`);
    expect(stdout).toContain('open: T011, T012, T014');
  });

  test('--json prints exactly status, phase and errors', async () => {
    const { code, stdout } = await run(join(FIXTURES, 'nested.md'), '--json');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      status: 'PHASE',
      phase: {
        id: '1.2',
        title: 'Queues',
        line: 8,
        parent: { id: '1', title: 'Foundation', line: 1 },
        openTasks: [
          { id: 'T004', line: 10, description: 'Wire the scheduler', parallel: true, story: null },
          { id: 'T005', line: 13, description: 'Document the queues', parallel: false, story: null },
        ],
        doneTasks: 1,
      },
      errors: [],
    });
  });

  test('no work left: exit 3 and "no remaining phases" with the counts', async () => {
    const { code, stdout } = await run(join(FIXTURES, 'gates-outside.md'));
    expect(code).toBe(3);
    expect(stdout).toBe('no remaining phases (2 phase(s), 0 open, 2 done, 0 dropped task(s); 3 checkbox(es) outside every phase ignored)\n');
    const json = await run(join(FIXTURES, 'gates-outside.md'), '--json');
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stdout)).toEqual({ status: 'NO_WORK', phase: null, errors: [] });
  });

  test('a validation error: exit 2, file:line and code on stderr', async () => {
    const file = join(FIXTURES, 'no-tasks.md');
    const { code, stdout, stderr } = await run(file);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: NO_TASKS: `));
    const json = await run(file, '--json');
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 'INVALID', phase: null, errors: [{ code: 'NO_TASKS', file, line: 3 }] });
  });

  test('a hostile file: exit 2 with SPEC_TOO_COMPLEX, over a limit at once and over TASKS_READ_TIMEOUT_MS in its budget; the process exits', async () => {
    const nested = join(repo, 'nested-hostile.md');
    await writeFile(nested, '## Phase 1: Setup\n\n- [ ] T001 a\n\n' + '- '.repeat(10_000) + 'x\n');
    const limit = await run(nested);
    expect(limit.code).toBe(2);
    expect(limit.stderr).toMatch(/nested-hostile\.md:5: SPEC_TOO_COMPLEX: .*nested block quotes or lists on one line/);
    const slow = join(repo, 'slow-hostile.md');
    await writeFile(slow, '## Phase 1: Setup\n\n- [ ] T001 a\n\n' + '***a_ '.repeat(1200) + '\n\n' + '1. a\n\n'.repeat(800_000));
    const started = Date.now();
    const budget = await spawnSpecChain(['discover', slow, '--json'], { env: { TASKS_READ_TIMEOUT_MS: '100' } });
    expect(budget.code).toBe(2);
    expect(JSON.parse(budget.stdout)).toMatchObject({ status: 'INVALID', errors: [{ code: 'SPEC_TOO_COMPLEX', file: slow }] });
    expect(JSON.parse(budget.stdout).errors[0].message).toContain('over 100 ms (TASKS_READ_TIMEOUT_MS)');
    // Micromark's slowest 7 KB and 4.8 MB read directly take about 450 ms; the budget ends the read before.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  test('a missing file: exit 2 with FILE_MISSING', async () => {
    const { code, stderr } = await run(join(repo, 'nope.md'));
    expect(code).toBe(2);
    expect(stderr).toContain('FILE_MISSING');
  });

  test('a feature folder and a checkout (with .specify/feature.json or --feature) are read too', async () => {
    const folder = await run(join(repo, 'specs', '001-chain'), '--json');
    expect(folder.code).toBe(0);
    expect(JSON.parse(folder.stdout).phase.id).toBe('1.2');
    const checkout = await run(repo);
    expect(checkout.code).toBe(0);
    expect(checkout.stdout).toContain('Phase 1.2: Queues (specs/001-chain/tasks.md:8)');
    expect(checkout.stdout).toContain('inside Phase 1: Foundation (line 1)');
    const named = await run(repo, '--feature', '001-chain', '--json');
    expect(JSON.parse(named.stdout).phase.line).toBe(8);
    const unknown = await run(repo, '--feature=002-absent');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('specs/002-absent: FEATURE_MISSING');
  });

  test('bad usage: exit 2 with the usage on stderr', async () => {
    for (const argv of [[], ['--bogus', 'x'], ['a', 'b'], ['x', '--feature']] as string[][]) {
      const { code, stderr } = await run(...argv);
      expect(code, argv.join(' ')).toBe(2);
      expect(stderr).toContain('usage: spec-chain discover');
    }
    const help = await run('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: spec-chain discover');
  });
});
