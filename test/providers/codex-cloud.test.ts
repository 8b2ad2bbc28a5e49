import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FailureCode, FailureKind } from '../../src/interfaces.js';
import { git } from '../../src/sandbox/codex-cloud/git.js';
import { rejection as rejectionScanning, startCodexSandbox, waitForTask, type CodexSandbox } from './codex-cloud-fixture.js';

const REFERENCE = join(import.meta.dirname, '../fixtures/codex-cloud/cli-requests.jsonl');
// Headers fetch adds on its own (connection management, content negotiation); the CLI's client does not.
const TRANSPORT_HEADERS = new Set(['connection', 'accept-encoding', 'accept-language', 'sec-fetch-mode']);
const PROMPT = 'Implement only Phase 1 (T001–T002) of specs/001-greeting/tasks.md following plan.md; mark each finished task [X] in tasks.md.';

let sandbox: CodexSandbox;
let cliRequests: { method: string; path: string; header_names: string[]; body: unknown }[];

beforeAll(async () => {
  sandbox = await startCodexSandbox();
  cliRequests = (await readFile(REFERENCE, 'utf8')).trim().split('\n').map((line) => JSON.parse(line));
});
afterAll(async () => sandbox.stop());
beforeEach(() => sandbox.emulator.reset());

/** The failure of a call, checked to quote none of the sandbox's tokens. */
const rejection = (promise: Promise<unknown>) =>
  rejectionScanning(promise, [sandbox.login.access_token, sandbox.login.refresh_token, sandbox.login.id_token]);

/** Same keys in the same order, recursively: the shape of a body, whatever its values. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value && typeof value === 'object') return Object.entries(value).map(([k, v]) => [k, shape(v)]);
  return typeof value;
}

async function cloneDemo(name: string): Promise<string> {
  const dir = join(sandbox.dir, name);
  await git(['clone', '-q', '--branch', 'main', sandbox.demo.path, dir]);
  return dir;
}

describe('resolveEnvironment', () => {
  it('finds an environment by exact id, asking by repository first and then the full list', async () => {
    const env = await sandbox.client().resolveEnvironment('sandbox/widgets', 'env_gadgets');
    expect(env.id).toBe('env_gadgets');
    const paths = sandbox.emulator.requests().map((r) => r.path);
    expect(paths).toEqual(['/backend-api/wham/environments/by-repo/github/sandbox/widgets', '/backend-api/wham/environments']);
  });

  it('finds an environment by its label, ignoring case', async () => {
    const env = await sandbox.client().resolveEnvironment('sandbox/widgets', 'WIDGETS');
    expect(env).toMatchObject({ id: 'env_widgets', label: 'Widgets' });
  });

  it('refuses a label two environments share as PERMANENT ambiguity', async () => {
    const error = await rejection(sandbox.client().resolveEnvironment('sandbox/widgets', 'shared'));
    expect(error.kind).toBe(FailureKind.PERMANENT);
    expect(error.code).toBe(FailureCode.CODEX_ENVIRONMENT_AMBIGUOUS);
    expect(error.message).toContain('env_shared_a');
    expect(error.message).toContain('env_shared_b');
  });

  it('reports a missing environment and lists the ones there are', async () => {
    const error = await rejection(sandbox.client().resolveEnvironment('sandbox/widgets', 'nope'));
    expect(error.kind).toBe(FailureKind.PERMANENT);
    expect(error.code).toBe(FailureCode.CODEX_ENVIRONMENT_NOT_FOUND);
    expect(error.message).toContain('Widgets (env_widgets)');
  });
});

describe('submitTask', () => {
  it('sends the CLI body and headers for one attempt, with the marker line in the prompt', async () => {
    const { taskId, url } = await sandbox.client().submitTask({
      environmentId: 'env_widgets',
      branch: 'main',
      prompt: PROMPT,
      bestOfN: 1,
      marker: 'spec-chain-run: run-1/1',
    });
    expect(taskId).toMatch(/^task_e_[0-9a-f]+$/);
    expect(url).toBe(`${sandbox.emulator.authUrl}/codex/tasks/${taskId}`);

    const sent = sandbox.emulator.requests().find((r) => r.method === 'POST' && r.path === '/backend-api/wham/tasks')!;
    expect(sent.body).toEqual({
      new_task: { environment_id: 'env_widgets', branch: 'main', run_environment_in_qa_mode: false },
      input_items: [{ type: 'message', role: 'user', content: [{ content_type: 'text', text: `${PROMPT}\n\nspec-chain-run: run-1/1\n` }] }],
    });
    const cliSingle = cliRequests.find((r) => r.method === 'POST' && r.path === '/backend-api/wham/tasks' && !('metadata' in (r.body as object)))!;
    expect(shape(sent.body)).toEqual(shape(cliSingle.body));

    for (const name of cliSingle.header_names) expect(sent.header_names).toContain(name);
    const extra = sent.header_names.filter((name) => !cliSingle.header_names.includes(name));
    expect(extra.filter((name) => !TRANSPORT_HEADERS.has(name))).toEqual([]);
    expect(sent.user_agent).toMatch(/spec-chain/);
  });

  it('asks for best-of-3 with metadata, as the CLI does', async () => {
    const client = sandbox.client();
    const { taskId } = await client.submitTask({ environmentId: 'env_widgets', branch: 'main', prompt: PROMPT, bestOfN: 3, marker: 'm-3' });
    const sent = sandbox.emulator.requests().find((r) => r.method === 'POST' && r.path === '/backend-api/wham/tasks')!;
    expect((sent.body as { metadata: unknown }).metadata).toEqual({ best_of_n: 3 });
    const cliBestOf = cliRequests.find((r) => r.method === 'POST' && r.path === '/backend-api/wham/tasks' && 'metadata' in (r.body as object))!;
    expect(shape(sent.body)).toEqual(shape(cliBestOf.body));

    const snapshot = await waitForTask(client, taskId);
    expect(snapshot.siblingTurnIds).toHaveLength(2);
  });

  it('sends a starting diff as a pre_apply_patch item, as the CLI does', async () => {
    const startingDiff = 'diff --git a/notes.txt b/notes.txt\nnew file mode 100644\n--- /dev/null\n+++ b/notes.txt\n@@ -0,0 +1 @@\n+hello\n';
    await sandbox.client().submitTask({ environmentId: 'env_widgets', branch: 'main', prompt: PROMPT, bestOfN: 1, marker: 'm', startingDiff });
    const sent = sandbox.emulator.requests().find((r) => r.method === 'POST')!.body as { input_items: unknown[] };
    expect(sent.input_items[1]).toEqual({ type: 'pre_apply_patch', output_diff: { diff: startingDiff } });
    const cliWithDiff = cliRequests.find((r) => JSON.stringify(r.body ?? '').includes('pre_apply_patch'))!;
    expect(shape(sent)).toEqual(shape(cliWithDiff.body));
  });

  it('refuses more than four attempts before sending anything', async () => {
    const error = await rejection(
      sandbox.client().submitTask({ environmentId: 'env_widgets', branch: 'main', prompt: PROMPT, bestOfN: 5, marker: 'm' }),
    );
    expect(error.kind).toBe(FailureKind.PERMANENT);
    expect(sandbox.emulator.requests()).toHaveLength(0);
  });
});

describe('getTask', () => {
  it('is READY with a diff that applies to a clone of the demo repository', async () => {
    const client = sandbox.client();
    const { taskId } = await client.submitTask({ environmentId: 'env_widgets', branch: 'main', prompt: PROMPT, bestOfN: 1, marker: 'm' });
    const snapshot = await waitForTask(client, taskId);
    expect(snapshot).toMatchObject({ taskId, status: 'READY', turnStatus: 'completed', error: null, environmentId: 'env_widgets' });
    expect(snapshot.messages.join(' ')).toContain('T001, T002');
    expect(snapshot.diff).toContain('+- [X] T001');
    expect(snapshot.diffStats.filesModified).toBe(3);

    const dir = await cloneDemo('apply-clean');
    const applied = await git(['apply', '--3way', '--index', '-'], { cwd: dir, input: snapshot.diff!, allowFailure: true });
    expect(applied.code).toBe(0);
    const tasks = (await git(['show', ':specs/001-greeting/tasks.md'], { cwd: dir })).stdout;
    expect(tasks).toMatch(/^- \[X\] T001 /m);
    expect(tasks).toMatch(/^- \[X\] T002 \[P\] /m);
    expect(tasks).toMatch(/^- \[ \] T003 /m);
  });

  it('stays PENDING for the scripted number of polls, then is READY', async () => {
    sandbox.emulator.script({ kind: 'implement', pendingPolls: 3 });
    const client = sandbox.client();
    const { taskId } = await client.submitTask({ environmentId: 'env_widgets', branch: 'main', prompt: PROMPT, bestOfN: 1, marker: 'm' });
    const seen = [];
    for (let i = 0; i < 4; i += 1) seen.push(await client.getTask(taskId));
    expect(seen.map((s) => s.status)).toEqual(['PENDING', 'PENDING', 'PENDING', 'READY']);
    expect(seen.map((s) => s.turnStatus)).toEqual(['pending', 'in_progress', 'in_progress', 'completed']);
    expect(seen[0]!.diff).toBeNull();
    expect(seen[3]!.diff).toContain('tasks.md');
  });

  it('is READY without a diff when the agent asks a question, and carries its message', async () => {
    sandbox.emulator.script({ kind: 'no-diff', message: 'Which greeting should I use?' });
    const client = sandbox.client();
    const { taskId } = await client.submitTask({ environmentId: 'env_widgets', branch: 'main', prompt: PROMPT, bestOfN: 1, marker: 'm' });
    const snapshot = await waitForTask(client, taskId);
    expect(snapshot).toMatchObject({ status: 'READY', diff: null, messages: ['Which greeting should I use?'], error: null });
  });

  it('is ERROR with the turn error code and message', async () => {
    sandbox.emulator.script({ kind: 'error', code: 'setup_failed', message: 'npm install exited 1' });
    const client = sandbox.client();
    const { taskId } = await client.submitTask({ environmentId: 'env_widgets', branch: 'main', prompt: PROMPT, bestOfN: 1, marker: 'm' });
    const snapshot = await waitForTask(client, taskId);
    expect(snapshot).toMatchObject({ status: 'ERROR', turnStatus: 'failed', diff: null });
    expect(snapshot.error).toEqual({ code: 'setup_failed', message: 'npm install exited 1' });
  });

  it('classifies 502 as TRANSIENT and 429 as TRANSIENT with retryAfterMs, then recovers', async () => {
    const client = sandbox.client();
    const { taskId } = await client.submitTask({ environmentId: 'env_widgets', branch: 'main', prompt: PROMPT, bestOfN: 1, marker: 'm' });
    sandbox.emulator.script({ kind: 'http-error', status: 502 }, { kind: 'http-error', status: 429, retryAfterSeconds: 7 });

    const bad = await rejection(client.getTask(taskId));
    expect(bad).toMatchObject({ kind: FailureKind.TRANSIENT, code: FailureCode.SERVICE_UNAVAILABLE, details: { status: 502 } });
    const limited = await rejection(client.getTask(taskId));
    expect(limited).toMatchObject({ kind: FailureKind.TRANSIENT, code: FailureCode.RATE_LIMITED, retryAfterMs: 7000 });
    expect((await waitForTask(client, taskId)).status).toBe('READY');
  });

  it('calls an unreachable service TRANSIENT', async () => {
    const client = sandbox.client({ baseUrl: 'http://127.0.0.1:1/backend-api' });
    const error = await rejection(client.getTask('task_e_x'));
    expect(error).toMatchObject({ kind: FailureKind.TRANSIENT, code: FailureCode.SERVICE_UNAVAILABLE });
  });

  it('ends at once when the caller aborts', async () => {
    const controller = new AbortController();
    controller.abort(new Error('run cancelled'));
    await expect(sandbox.client().getTask('task_e_x', controller.signal)).rejects.toThrow('run cancelled');
  });

  it('answers a conflict outcome with a diff that git apply --3way turns into real conflicts', async () => {
    sandbox.emulator.script({ kind: 'conflict' });
    const client = sandbox.client();
    const { taskId } = await client.submitTask({ environmentId: 'env_widgets', branch: 'main', prompt: PROMPT, bestOfN: 1, marker: 'm' });
    const snapshot = await waitForTask(client, taskId);
    expect(snapshot.status).toBe('READY');

    const dir = await cloneDemo('apply-conflict');
    const applied = await git(['apply', '--3way', '--index', '-'], { cwd: dir, input: snapshot.diff!, allowFailure: true });
    expect(applied.code).not.toBe(0);
    expect(applied.stderr).toMatch(/with conflicts/);
    expect(applied.stderr).not.toMatch(/patch failed/);
    const unmerged = (await git(['ls-files', '-u'], { cwd: dir })).stdout.trim().split('\n');
    expect(unmerged.length).toBeGreaterThanOrEqual(2);
    const path = unmerged[0]!.split('\t')[1]!;
    const content = await readFile(join(dir, path), 'utf8');
    expect(content).toContain('<<<<<<<');
    expect(content).toContain('>>>>>>>');
  });
});

describe('findTaskByMarker', () => {
  it('finds the task a crashed step created, and null for a marker never sent', async () => {
    const marker = 'spec-chain-run: 7f1c2d/1';
    const before = new Date();
    const { taskId } = await sandbox.client().submitTask({ environmentId: 'env_widgets', branch: 'main', prompt: PROMPT, bestOfN: 1, marker });
    for (let i = 0; i < 3; i += 1) {
      await sandbox.client().submitTask({ environmentId: 'env_widgets', branch: 'main', prompt: PROMPT, bestOfN: 1, marker: `other/${i}` });
    }
    const created = () => sandbox.emulator.requests().filter((r) => r.method === 'POST' && r.path === '/backend-api/wham/tasks').length;
    expect(created()).toBe(4);

    // A new client, as a restarted worker would have.
    const restarted = sandbox.client();
    expect(await restarted.findTaskByMarker('env_widgets', marker, before)).toMatchObject({ taskId, complete: true, pagesRead: 1 });
    expect(await restarted.findTaskByMarker('env_widgets', 'spec-chain-run: never/1', before)).toMatchObject({ taskId: null, complete: true, tasksRead: 4 });
    expect((await restarted.findTaskByMarker('env_gadgets', marker, before)).taskId).toBeNull();
    // Every task is older than an hour from now: nothing is read in detail.
    expect(await restarted.findTaskByMarker('env_widgets', marker, new Date(Date.now() + 3_600_000))).toMatchObject({ taskId: null, complete: true, tasksRead: 0 });
    expect(created()).toBe(4);

    const list = sandbox.emulator.requests().find((r) => r.path === '/backend-api/wham/tasks/list')!;
    expect(list.query).toMatchObject({ limit: '20', task_filter: 'current', environment_id: 'env_widgets' });
  });

  it('searches back to the attempt\'s start however many tasks came after it, and says when it stopped short', async () => {
    const marker = 'spec-chain-run: busy/1';
    const since = new Date(Date.now() - 1000);
    sandbox.emulator.script(...Array.from({ length: 151 }, () => ({ kind: 'no-diff' as const })));
    const { taskId } = await sandbox.client().submitTask({ environmentId: 'env_widgets', branch: 'main', prompt: PROMPT, bestOfN: 1, marker });
    for (let i = 0; i < 150; i += 1) {
      await sandbox.client().submitTask({ environmentId: 'env_widgets', branch: 'main', prompt: 'a busy environment', bestOfN: 1, marker: `busy-other/${i}` });
    }
    const found = await sandbox.client().findTaskByMarker('env_widgets', marker, since);
    expect(found).toMatchObject({ taskId, complete: true, pagesRead: 8, tasksRead: 151 });
    const capped = await sandbox.client({ markerSearchPages: 3 }).findTaskByMarker('env_widgets', marker, since);
    expect(capped).toEqual({ taskId: null, complete: false, incomplete: 'stopped after 3 pages of tasks', pagesRead: 3, tasksRead: 60 });
  });

  it('follows the list cursor past the first page', async () => {
    const marker = 'spec-chain-run: paged/1';
    const client = sandbox.client();
    sandbox.emulator.script(...Array.from({ length: 23 }, () => ({ kind: 'no-diff' as const })));
    const { taskId } = await client.submitTask({ environmentId: 'env_widgets', branch: 'main', prompt: PROMPT, bestOfN: 1, marker });
    for (let i = 0; i < 22; i += 1) {
      await client.submitTask({ environmentId: 'env_widgets', branch: 'main', prompt: 'filler', bestOfN: 1, marker: `filler/${i}` });
    }
    expect(await client.findTaskByMarker('env_widgets', marker, new Date(0))).toMatchObject({ taskId, pagesRead: 2, tasksRead: 23 });
    const pages = sandbox.emulator.requests().filter((r) => r.path === '/backend-api/wham/tasks/list');
    expect(pages).toHaveLength(2);
    expect(pages[1]!.query?.cursor).toBeTruthy();
  });
});

describe('getUsage', () => {
  it('reads the plan and rate-limit windows', async () => {
    const usage = await sandbox.client().getUsage();
    expect(usage).toMatchObject({ planType: 'pro', limitReached: false, credits: { hasCredits: false, unlimited: false } });
    expect(usage.primaryWindow?.windowSeconds).toBe(18_000);
  });
});
