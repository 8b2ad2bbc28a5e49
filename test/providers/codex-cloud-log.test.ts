import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendJsonLines, execJsonLines, type TaskSnapshot } from '../../src/providers/codex-cloud/index.js';
import { startCodexSandbox, type CodexSandbox } from './codex-cloud-fixture.js';

const REFERENCE = join(import.meta.dirname, '../fixtures/codex-cloud');
const PROMPT = 'Implement only Phase 2 (T003–T004) of specs/001-greeting/tasks.md; mark each finished task [X].';

let sandbox: CodexSandbox;
let samples: Record<string, unknown>[];

beforeAll(async () => {
  sandbox = await startCodexSandbox();
  samples = (
    await Promise.all(['exec-json-sample.jsonl', 'exec-json-failure-sample.jsonl'].map((f) => readFile(join(REFERENCE, f), 'utf8')))
  )
    .join('\n')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
});
afterAll(async () => sandbox.stop());

/** Runs a task to its end, logging its submission and every poll, as the chain's steps would. */
async function logTask(name: string): Promise<{ path: string; lines: Record<string, any>[]; text: string; last: TaskSnapshot }> {
  const path = join(sandbox.dir, 'logs', `${name}.jsonl`);
  const client = sandbox.client();
  const { taskId } = await client.submitTask({ environmentId: 'env_widgets', branch: 'main', prompt: PROMPT, bestOfN: 1, marker: `log/${name}` });
  await appendJsonLines(path, execJsonLines({ kind: 'submitted', taskId }));
  let last: TaskSnapshot;
  do {
    last = await client.getTask(taskId);
    await appendJsonLines(path, execJsonLines({ kind: 'polled', snapshot: last }));
  } while (last.status === 'PENDING');
  const text = await readFile(path, 'utf8');
  return { path, text, lines: text.trim().split('\n').map((l) => JSON.parse(l)), last };
}

/** The keys of each event type in the real samples, to hold our lines to. */
function sampleKeys(type: string): string[] | undefined {
  const sample = samples.find((s) => s.type === type);
  return sample ? Object.keys(sample).sort() : undefined;
}

describe('exec-json log of a Codex Cloud task', () => {
  it('writes a finished task as thread.started, turn.started, items and turn.completed', async () => {
    sandbox.emulator.script({ kind: 'implement', pendingPolls: 2 });
    const { lines, last } = await logTask('ready');
    expect(lines.map((l) => l.type)).toEqual(['thread.started', 'turn.started', 'item.completed', 'item.completed', 'turn.completed']);
    expect(lines[0]).toEqual({ type: 'thread.started', thread_id: last.taskId });
    for (const line of lines) {
      const keys = sampleKeys(line.type);
      if (keys) expect(Object.keys(line).sort()).toEqual(keys);
    }
    const completedUsage = samples.find((s) => s.type === 'turn.completed')!.usage as Record<string, number>;
    for (const key of ['input_tokens', 'cached_input_tokens', 'output_tokens']) expect(key in completedUsage && key in lines[4]!.usage).toBe(true);

    expect(lines[2]!.item).toMatchObject({ id: 'item_0', type: 'agent_message' });
    expect(lines[2]!.item.text).toContain('T003, T004');
    expect(lines[3]!.item).toMatchObject({ id: 'item_1', type: 'file_change', status: 'completed' });
    expect(lines[3]!.item.changes).toEqual([
      { path: 'specs/001-greeting/implemented/T003.md', kind: 'add' },
      { path: 'specs/001-greeting/implemented/T004.md', kind: 'add' },
      { path: 'specs/001-greeting/tasks.md', kind: 'update' },
    ]);
  });

  it('writes a failed task as error then turn.failed, as codex exec does', async () => {
    sandbox.emulator.script({ kind: 'error', code: 'setup_failed', message: 'npm install exited 1' });
    const { lines } = await logTask('failed');
    expect(lines.map((l) => l.type)).toEqual(['thread.started', 'turn.started', 'error', 'turn.failed']);
    expect(Object.keys(lines[2]!).sort()).toEqual(sampleKeys('error'));
    expect(Object.keys(lines[3]!).sort()).toEqual(sampleKeys('turn.failed'));
    expect(lines[3]!.error.message).toBe('setup_failed: npm install exited 1');
  });

  it('never writes a credential, even when an error quotes one', async () => {
    const { path, text } = await logTask('secrets');
    const auth = JSON.parse(await readFile(sandbox.authPath, 'utf8'));
    const tokens = [sandbox.login.access_token, sandbox.login.refresh_token, sandbox.login.id_token, auth.tokens.access_token, auth.tokens.refresh_token];

    const leaky = new Error(`upstream said: Authorization: Bearer ${auth.tokens.access_token}; refresh ${auth.tokens.refresh_token}; key sk-proj-abcdefghijklmnop0123`);
    const lines = execJsonLines({ kind: 'failed', error: leaky }, [auth.tokens.id_token]);
    await appendJsonLines(path, lines);
    expect(JSON.parse(lines[0]!)).toMatchObject({ type: 'error' });

    const all = await readFile(path, 'utf8');
    expect(all.length).toBeGreaterThan(text.length);
    for (const token of tokens) expect(all).not.toContain(token);
    expect(all).not.toContain('sk-proj-abcdefghijklmnop0123');
    expect(all).toContain('[redacted]');
  });
});
