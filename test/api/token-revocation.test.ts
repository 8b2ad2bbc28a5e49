import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { loadTokens } from '../../src/server/auth.js';
import { createTestDatabase } from '../support/database.js';
import { gql, startService, type TestService } from '../support/service.js';
import { wsClient } from '../support/subscriber.js';

const kept = 'operator-from-file-0123456789';
const revoked = 'viewer-from-file-to-be-revoked';
let dir: string;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let svc: TestService;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spec-chain-tokens-'));
  await writeFile(join(dir, 'tokens'), `operator:${kept}\nviewer:${revoked}\n`);
  db = await createTestDatabase();
  svc = await startService(db.url, { API_TOKENS_FILE: join(dir, 'tokens') });
});
afterAll(async () => {
  await svc?.close();
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

test('a token removed from API_TOKENS_FILE is revoked on reload: its requests get 401 and its subscriptions close with the reason', async () => {
  expect((await gql(svc.url, '{ me { role } }', {}, revoked)).body.data.me.role).toBe('viewer');
  const client = wsClient(svc.url, revoked);
  const connected = new Promise((resolve) => client.on('connected', resolve));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => client.on('closed', (e) => resolve(e as { code: number; reason: string })));
  client.subscribe({ query: 'subscription { runUpdated(runId: "00000000-0000-0000-0000-000000000000") { version } }' }, { next: () => {}, error: () => {}, complete: () => {} });
  await connected;

  await writeFile(join(dir, 'tokens'), `operator:${kept}\n`);
  await loadTokens(svc.tokens, svc.config); // what SIGHUP does in `spec-chain serve`

  expect(await closed).toEqual(expect.objectContaining({ code: 4401, reason: 'Unauthorized: the token was revoked' }));
  expect((await gql(svc.url, '{ me { role } }', {}, revoked)).status).toBe(401);
  expect((await gql(svc.url, '{ me { role } }', {}, kept)).body.data.me.role).toBe('operator');
  await client.dispose();
});

test('an unreadable API_TOKENS_FILE stops start-up naming the variable', async () => {
  const extra = await createTestDatabase();
  await expect(startService(extra.url, { API_TOKENS_FILE: join(dir, 'missing') })).rejects.toThrow(/API_TOKENS_FILE: cannot read/);
  await extra.drop();
});
