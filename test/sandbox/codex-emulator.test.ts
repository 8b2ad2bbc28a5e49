import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDemoRepository } from '../../src/sandbox/demo-repo.js';
import { startCodexEmulator, type CodexEmulator, type IssuedLogin } from '../../src/sandbox/codex-cloud/index.js';

// The emulator seen from outside, over plain HTTP, as a test in another process would drive it.

let dir: string;
let emulator: CodexEmulator;
let login: IssuedLogin;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'codex-emulator-test-'));
  await createDemoRepository(join(dir, 'git'));
  emulator = await startCodexEmulator({
    port: 0,
    host: '127.0.0.1',
    gitRoot: join(dir, 'git'),
    environments: [{ id: 'env_widgets', label: 'widgets', repository: 'sandbox/widgets' }],
  });
});
afterAll(async () => {
  await emulator.stop();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  await post('/_emulator/reset', {});
  login = (await post('/_emulator/login', {})).body as IssuedLogin;
});

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${emulator.authUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}
async function get(path: string, token = login.access_token, account = login.account_id) {
  const res = await fetch(`${emulator.baseUrl}${path}`, { headers: { authorization: `Bearer ${token}`, 'chatgpt-account-id': account } });
  return { status: res.status, body: (await res.json()) as any };
}
const signedIn = () => ({ authorization: `Bearer ${login.access_token}`, 'chatgpt-account-id': login.account_id });
const createBody = (text: string) => ({
  new_task: { environment_id: 'env_widgets', branch: 'main', run_environment_in_qa_mode: false },
  input_items: [{ type: 'message', role: 'user', content: [{ content_type: 'text', text }] }],
});
async function createTask(text = 'Implement T001 of specs/001-greeting/tasks.md') {
  const created = await fetch(`${emulator.baseUrl}/wham/tasks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...signedIn() },
    body: JSON.stringify(createBody(text)),
  });
  return { status: created.status, body: (await created.json()) as any };
}

describe('tokens', () => {
  it('issues well-formed JWT access tokens with exp and the account claim', () => {
    const parts = login.access_token.split('.');
    expect(parts).toHaveLength(3);
    for (const part of parts) expect(part).toMatch(/^[A-Za-z0-9_-]+$/);
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString());
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString());
    expect(header).toMatchObject({ typ: 'JWT' });
    expect(claims.exp * 1000).toBeGreaterThan(Date.now());
    expect(claims['https://api.openai.com/auth'].chatgpt_account_id).toBe(login.account_id);
  });

  it('answers 401 for an unknown or expired token and 403 for the wrong account', async () => {
    expect((await get('/wham/environments')).status).toBe(200);
    expect((await get('/wham/environments', 'eyJhbGciOiJub25lIn0.e30.x')).status).toBe(401);
    expect((await get('/wham/environments', login.access_token, 'acct_other')).status).toBe(403);
    expect((await post('/_emulator/tokens/expire', {})).status).toBe(200);
    expect((await get('/wham/environments')).status).toBe(401);
  });

  it('rotates refresh tokens: the old one stops working', async () => {
    const body = { client_id: 'app_EMoamEEZ73f0CkXaXp7hrann', grant_type: 'refresh_token', refresh_reason: 'proactive_expiry', refresh_token: login.refresh_token };
    const first = await post('/oauth/token', body);
    expect(first.status).toBe(200);
    expect(Object.keys(first.body).sort()).toEqual(['access_token', 'id_token', 'refresh_token']);
    expect(first.body.refresh_token).not.toBe(login.refresh_token);
    const again = await post('/oauth/token', body);
    expect(again.status).toBe(401);
    expect(again.body.error.code).toBe('refresh_token_reused');
    const next = await post('/oauth/token', { ...body, refresh_token: first.body.refresh_token });
    expect(next.status).toBe(200);
    expect((await get('/wham/environments', next.body.access_token)).status).toBe(200);
  });

  it('tells an at- token its account through whoami', async () => {
    const { body } = await post('/_emulator/access-token', {});
    const res = await fetch(`${emulator.authUrl}/api/accounts/v1/user-auth-credential/whoami`, { headers: { authorization: `Bearer ${body.token}` } });
    expect(await res.json()).toEqual({
      email: emulator.account.email,
      chatgpt_user_id: emulator.account.userId,
      chatgpt_account_id: emulator.account.id,
      chatgpt_plan_type: 'pro',
      chatgpt_account_is_fedramp: false,
    });
  });
});

describe('tasks', () => {
  it('carries every field the CLI models require in details and list items', async () => {
    const { body } = await createTask();
    const details = (await get(`/wham/tasks/${body.task.id}`)).body;
    for (const key of ['id', 'title', 'archived', 'external_pull_requests']) expect(details.task).toHaveProperty(key);
    expect(details.task_status_display.latest_turn_status_display.turn_status).toBe('completed');
    expect(details.current_diff_task_turn.output_items[0].type).toBe('output_diff');
    expect(details.current_assistant_turn.output_items.map((i: { type: string }) => i.type)).toEqual(['message', 'pr']);

    const list = (await get('/wham/tasks/list?limit=20&task_filter=current')).body;
    expect(list.items).toHaveLength(1);
    for (const key of ['id', 'title', 'archived', 'has_unread_turn']) expect(list.items[0]).toHaveProperty(key);
    expect(typeof list.items[0].created_at).toBe('number');
    expect(list.cursor).toBeNull();
  });

  it('serves a page for the task url the client reports', async () => {
    const { body } = await createTask('Say <hello>');
    const page = await fetch(`${emulator.authUrl}/codex/tasks/${body.task.id}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Say &#60;hello&#62;');
  });

  it('rejects a malformed create body with 422 and an unknown environment with 404', async () => {
    const res = await fetch(`${emulator.baseUrl}/wham/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signedIn() },
      body: JSON.stringify({ new_task: { environment_id: 'env_widgets' }, input_items: [] }),
    });
    expect(res.status).toBe(422);
    const unknown = await fetch(`${emulator.baseUrl}/wham/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signedIn() },
      body: JSON.stringify({ ...createBody('x'), new_task: { environment_id: 'env_nope', branch: 'main', run_environment_in_qa_mode: false } }),
    });
    expect(unknown.status).toBe(404);
  });

  it('fails the turn when the branch does not exist', async () => {
    const res = await fetch(`${emulator.baseUrl}/wham/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signedIn() },
      body: JSON.stringify({ ...createBody('x'), new_task: { environment_id: 'env_widgets', branch: 'no-such-branch', run_environment_in_qa_mode: false } }),
    });
    const { task } = (await res.json()) as any;
    const details = (await get(`/wham/tasks/${task.id}`)).body;
    expect(details.task_status_display.state).toBe('error');
    expect(details.current_assistant_turn.error.code).toBe('branch_not_found');
  });
});

describe('control API', () => {
  it('takes scripts over HTTP, in order, and records every request with header names and body', async () => {
    const scripted = await post('/_emulator/script', { outcomes: [{ kind: 'no-diff', message: 'Which one?' }, { kind: 'error', code: 'boom' }] });
    expect(scripted.status).toBe(200);
    const first = (await createTask()).body.task.id;
    const second = (await createTask()).body.task.id;
    const third = (await createTask()).body.task.id;
    expect((await get(`/wham/tasks/${first}`)).body.current_assistant_turn.output_items).toEqual([
      { type: 'message', content: [{ content_type: 'text', text: 'Which one?' }] },
    ]);
    expect((await get(`/wham/tasks/${second}`)).body.current_assistant_turn.error.code).toBe('boom');
    expect((await get(`/wham/tasks/${third}`)).body.current_diff_task_turn.output_items[0].diff).toContain('T001');

    const recorded = await (await fetch(`${emulator.authUrl}/_emulator/requests`)).json() as any[];
    const creates = recorded.filter((r) => r.method === 'POST' && r.path === '/backend-api/wham/tasks');
    expect(creates).toHaveLength(3);
    expect(creates[0].header_names).toEqual(expect.arrayContaining(['authorization', 'chatgpt-account-id', 'content-type']));
    expect(creates[0].body).toEqual(createBody('Implement T001 of specs/001-greeting/tasks.md'));
    expect(recorded.some((r) => r.path.startsWith('/_emulator'))).toBe(false);
  });

  it('answers the next requests with a scripted HTTP error and retry-after', async () => {
    await post('/_emulator/script', [{ kind: 'http-error', status: 429, count: 2, retryAfterSeconds: 3 }]);
    const a = await fetch(`${emulator.baseUrl}/wham/environments`, { headers: signedIn() });
    const b = await fetch(`${emulator.baseUrl}/wham/environments`, { headers: signedIn() });
    const c = await fetch(`${emulator.baseUrl}/wham/environments`, { headers: signedIn() });
    expect([a.status, b.status, c.status]).toEqual([429, 429, 200]);
    expect(a.headers.get('retry-after')).toBe('3');
  });

  it('refuses an outcome it does not know', async () => {
    expect((await post('/_emulator/script', { kind: 'explode' })).status).toBe(400);
    expect((await post('/_emulator/script', { kind: 'http-error', status: 200 })).status).toBe(400);
  });

  it('forgets tasks and requests on reset', async () => {
    await createTask();
    await post('/_emulator/reset', {});
    expect(emulator.requests()).toHaveLength(0);
    expect((await get('/wham/tasks/list')).body.items).toEqual([]);
  });
});
