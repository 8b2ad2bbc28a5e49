import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { makeDiff } from '../providers/git-fixture.js';
import { exited, spawnCli } from '../support/processes.js';
import { fileAt } from '../support/repo.js';
import { gql, TOKENS } from '../support/service.js';
import { RUN_FIELDS, startWorld, type World } from '../support/world.js';

// A run's git work leaves nothing on disk, however the run ends: the worker processes are real ones,
// so one can be killed in the middle of applying a patch.
let world: World;
const children: ChildProcess[] = [];
const holds: (() => void)[] = [];
beforeAll(async () => {
  world = await startWorld({ workers: false });
});
afterEach(async () => {
  for (const release of holds.splice(0)) release();
  for (const c of children.splice(0)) {
    c.kill('SIGKILL');
    await exited(c);
  }
});
afterAll(async () => world?.close());

function worker(): ChildProcess {
  const child = spawnCli('work', { ...world.env, DATABASE_URL: world.databaseUrl });
  children.push(child);
  return child;
}

const cacheDir = () => join(world.dir, 'git-cache');
const scratch = () => (existsSync(join(cacheDir(), '.scratch')) ? readdirSync(join(cacheDir(), '.scratch')) : []);

/** Everything a run could have left: scratch folders (temporary indexes), checkouts, git lock files, half-made caches. */
function leftovers(): string[] {
  const found = scratch().map((name) => `.scratch/${name}`);
  if (existsSync(join(world.dir, 'worktrees'))) found.push('worktrees/');
  for (const entry of readdirSync(cacheDir(), { recursive: true, withFileTypes: true })) {
    const path = relative(cacheDir(), join(entry.parentPath, entry.name));
    if (entry.name.endsWith('.lock') || /\.git\.init-/.test(entry.name) || (entry.isDirectory() && entry.name === 'worktrees')) found.push(path);
  }
  return found;
}

async function applyRunning(runId: string): Promise<boolean> {
  const { rows } = await world.svc.app.db.query(`SELECT 1 FROM step_attempt WHERE run_id = $1 AND step = 'APPLY' AND state = 'RUNNING'`, [runId]);
  return rows.length > 0;
}

/** Holds the first fetch the service makes while the run's APPLY step runs (the blobs the patch touches). */
function holdApplyFetch(runId: () => string | undefined): { reached: Promise<void> } {
  let reached!: () => void;
  const promise = new Promise<void>((resolve) => (reached = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  holds.push(release);
  let held = false;
  const hook = async () => {
    if (held) return;
    world.sandbox.github.beforeOperation('git-upload-pack', hook);
    const id = runId();
    if (!id || !(await applyRunning(id)) || held) return;
    held = true;
    reached();
    await released;
  };
  world.sandbox.github.beforeOperation('git-upload-pack', hook);
  return { reached: promise };
}

/**
 * A Codex diff that appends a line to `path`, a file no earlier run touched: this machine's cache lacks
 * its blob, so apply has to fetch it (and can be held there).
 */
async function appendTo(path: string): Promise<string> {
  const before = await fileAt(world.demoRepository, 'main', path);
  return makeDiff({ [path]: before }, { [path]: `${before}# one more line\n` });
}

async function stepState(runId: string, step: string): Promise<string | undefined> {
  const run = await world.run(runId);
  return run.steps.filter((s: any) => s.step === step).at(-1)?.state;
}

test('a run that fails at apply (a merge conflict) leaves no run folder, index or lock', async () => {
  worker();
  world.sandbox.codex.script({ kind: 'conflict' });
  const { run: started } = await world.start();
  const run = await world.waitFor(started.id, undefined, 90_000);
  expect(run.failure).toMatchObject({ code: 'MERGE_CONFLICT', step: 'APPLY' });
  expect(existsSync(join(cacheDir(), 'sandbox', 'widgets.git'))).toBe(true);
  expect(leftovers()).toEqual([]);
}, 120_000);

test('a run cancelled while apply fetches: git is stopped and its temporary index removed', async () => {
  worker();
  world.sandbox.codex.script({ kind: 'diff', diff: await appendTo('.gitignore') });
  let runId: string | undefined;
  const hold = holdApplyFetch(() => runId);
  const { run: started } = await world.start();
  runId = started.id;
  await hold.reached;
  // The step is in the middle of its git work: its scratch folder is there now.
  expect(scratch()).toHaveLength(1);
  const cancelled = await gql(
    world.svc.url,
    `mutation($input: CancelRunInput!) { cancelRun(input: $input) { run { ${RUN_FIELDS} } userErrors { code message } } }`,
    { input: { runId: started.id, reason: 'changed my mind' } },
    TOKENS.operator,
  );
  expect(cancelled.body.data.cancelRun.userErrors).toEqual([]);
  // The worker ends its step (aborting git) before it records it CANCELLED.
  await world.waitFor(started.id, (r) => r.steps.some((s: any) => s.step === 'APPLY' && s.state === 'CANCELLED'), 60_000);
  expect((await world.run(started.id)).status).toBe('CANCELLED');
  expect(leftovers()).toEqual([]);
}, 120_000);

test('a worker SIGKILLed while apply fetches: another worker finishes the run and sweeps what the first left', async () => {
  const first = worker();
  world.sandbox.codex.script({ kind: 'diff', diff: await appendTo('test/widgets.test.js') });
  let runId: string | undefined;
  const hold = holdApplyFetch(() => runId);
  const { run: started } = await world.start();
  runId = started.id;
  await hold.reached;
  expect(scratch()).toEqual([expect.stringMatching(new RegExp(`-${first.pid}-[0-9a-f]+$`))]);
  first.kill('SIGKILL');
  await exited(first);
  for (const release of holds.splice(0)) release();
  // Killed mid-step: its scratch folder is still there until a live process sweeps it.
  expect(scratch()).toHaveLength(1);

  worker();
  const run = await world.waitFor(started.id, undefined, 110_000);
  expect(run.failure).toBeNull();
  expect(run.status).toBe('SUCCEEDED');
  expect(await stepState(started.id, 'APPLY')).toBe('SUCCEEDED');
  expect(leftovers()).toEqual([]);
}, 150_000);
