import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { printSchema } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildAppSchema } from '../../src/schema/build.js';
import { PROJECT_ROOT } from '../../src/server/paths.js';
import { createTestDatabase } from '../support/database.js';
import { gql, startService, TOKENS, type TestService } from '../support/service.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let svc: TestService;

beforeAll(async () => {
  db = await createTestDatabase();
  svc = await startService(db.url);
});
afterAll(async () => {
  await svc?.close();
  await db?.drop();
});

const RUNS = `query Runs($first: Int, $after: String, $filter: RunFilterInput) {
  runs(first: $first, after: $after, filter: $filter) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id status repository featureId steps { step state } artifacts { kind } } }
  }
}`;

describe('health', () => {
  test('/healthz answers while the process is up', async () => {
    const res = await fetch(`${svc.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  test('/readyz reports database and queue', async () => {
    const res = await fetch(`${svc.url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready', checks: { database: 'ok', queue: 'ok' } });
  });
});

describe('authentication over HTTP', () => {
  test('no token: 401 with a reason, nothing executed', async () => {
    const r = await gql(svc.url, '{ runs { totalCount } }', {}, null);
    expect(r.status).toBe(401);
    expect(r.body.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(r.body.data).toBeUndefined();
  });

  test('unknown token: 401', async () => {
    const r = await gql(svc.url, '{ runs { totalCount } }', {}, 'not-a-real-token-000000000');
    expect(r.status).toBe(401);
  });

  test('GET /graphql needs the token too', async () => {
    const q = encodeURIComponent('{ runs { totalCount } }');
    const anonymous = await fetch(`${svc.url}/graphql?query=${q}`, { headers: { 'apollo-require-preflight': '1' } });
    expect(anonymous.status).toBe(401);
    const viewer = await fetch(`${svc.url}/graphql?query=${q}`, {
      headers: { authorization: `Bearer ${TOKENS.viewer}`, 'apollo-require-preflight': '1' },
    });
    expect(viewer.status).toBe(200);
    expect(await viewer.json()).toEqual({ data: { runs: { totalCount: 0 } } });
  });

  test('me tells the caller its role', async () => {
    for (const [role, token] of Object.entries(TOKENS)) {
      const r = await gql(svc.url, '{ me { role tokenId } }', {}, token);
      expect(r.body.data.me.role).toBe(role);
      expect(r.body.data.me.tokenId).toMatch(/^[0-9a-f]{8}$/);
    }
  });

  test('a role too low gets FORBIDDEN and changes nothing', async () => {
    const r = await gql(
      svc.url,
      `mutation { createCredentialSet(input: { name: "x", codexAuthRef: "env:A", githubTokenRef: "env:B" }) { credentialSet { id } } }`,
      {},
      TOKENS.viewer,
    );
    expect(r.status).toBe(200);
    expect(r.body.errors?.[0].extensions.code).toBe('FORBIDDEN');
    const list = await gql(svc.url, '{ credentialSets { name } }', {}, TOKENS.viewer);
    expect(list.body.data.credentialSets).toEqual([]);
  });
});

describe('queries', () => {
  test('runs on an empty table', async () => {
    const r = await gql(svc.url, RUNS, { first: 10 }, TOKENS.viewer);
    expect(r.body).toEqual({ data: { runs: { totalCount: 0, pageInfo: { hasNextPage: false, endCursor: null }, edges: [] } } });
  });

  test('runs on a filled table: pagination, filters, totalCount', async () => {
    const [{ id: setId }] = await svc.app.ds.query(
      `INSERT INTO credential_set (name, codex_auth_ref, github_token_ref) VALUES ('paging', 'env:A', 'env:B') RETURNING id`,
    );
    // 25 runs, one second apart, three repositories, alternating statuses.
    for (let i = 0; i < 25; i++) {
      await svc.app.ds.query(
        `INSERT INTO spec_workflow_run (repository, feature_id, base_branch, root_branch, status, credential_set_id, created_at)
         VALUES ($1, $2, 'main', 'main', $3, $4, now() - make_interval(secs => $5))`,
        [`acme/repo${i % 3}`, `00${i % 5}-feature`, i % 2 ? 'FAILED' : 'SUCCEEDED', setId, 100 - i],
      );
    }
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const r: { body: { data?: any } } = await gql(svc.url, RUNS, { first: 10, after }, TOKENS.viewer);
      const runs = r.body.data.runs;
      expect(runs.totalCount).toBe(25);
      seen.push(...runs.edges.map((e: { node: { id: string } }) => e.node.id));
      after = runs.pageInfo.hasNextPage ? runs.pageInfo.endCursor : null;
      pages++;
    } while (after);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(25);
    // Newest first: the last inserted row (i = 24, created most recently) comes first.
    const [{ id: newest }] = await svc.app.ds.query('SELECT id FROM spec_workflow_run ORDER BY created_at DESC LIMIT 1');
    expect(seen[0]).toBe(newest);

    const failed = await gql(svc.url, RUNS, { first: 100, filter: { status: 'FAILED' } }, TOKENS.viewer);
    expect(failed.body.data.runs.totalCount).toBe(12);
    expect(failed.body.data.runs.edges.every((e: { node: { status: string } }) => e.node.status === 'FAILED')).toBe(true);

    const repo = await gql(svc.url, RUNS, { first: 100, filter: { repository: 'acme/repo1', featureId: '001-feature' } }, TOKENS.viewer);
    // i ≡ 1 (mod 3) and i ≡ 1 (mod 5): i = 1, 16.
    expect(repo.body.data.runs.totalCount).toBe(2);

    const one = await gql(svc.url, 'query($id: ID!) { run(id: $id) { id status steps { step } } }', { id: newest }, TOKENS.viewer);
    expect(one.body.data.run).toEqual({ id: newest, status: 'SUCCEEDED', steps: [] });
    const missing = await gql(svc.url, 'query { run(id: "00000000-0000-0000-0000-000000000000") { id } }', {}, TOKENS.viewer);
    expect(missing.body.data.run).toBeNull();
  });

  test('a cursor the API never issued is a clear input error', async () => {
    const r = await gql(svc.url, RUNS, { first: 5, after: 'garbage' }, TOKENS.viewer);
    expect(r.body.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
  });
});

describe('authentication over WebSocket', () => {
  function connect(token: string | null) {
    return createClient({
      url: `${svc.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: token ? { authorization: `Bearer ${token}` } : {},
      retryAttempts: 0,
      lazy: true,
    });
  }

  test('connection_init without a valid token: socket closed with a reason', async () => {
    for (const token of [null, 'wrong-token-00000000000000']) {
      const client = connect(token);
      const closed = await new Promise<{ code: number; reason: string }>((resolve) => {
        client.on('closed', (event) => resolve(event as { code: number; reason: string }));
        client.subscribe({ query: '{ runs { totalCount } }' }, { next: () => {}, error: () => {}, complete: () => {} });
      });
      expect(closed.code).toBe(4401);
      expect(closed.reason).toMatch(/Unauthorized/);
      await client.dispose();
    }
  });

  test('a valid token executes operations over the socket', async () => {
    const client = connect(TOKENS.viewer);
    const result = await new Promise<unknown>((resolve, reject) => {
      client.subscribe({ query: '{ credentialSets { name } }' }, { next: resolve, error: reject, complete: () => {} });
    });
    expect(result).toEqual({ data: { credentialSets: [{ name: 'paging' }] } });
    await client.dispose();
  });
});

test('schema.graphql is the printed schema of the code', async () => {
  const committed = await readFile(join(PROJECT_ROOT, 'schema.graphql'), 'utf8');
  expect(committed).toBe(printSchema(await buildAppSchema()) + '\n');
});

test('previewNextPhase answers what discovery would, for a pasted tasks.md', async () => {
  const q = `query($md: String!) { previewNextPhase(tasksMarkdown: $md) { status phase { id title line parent { id } openTasks { id line parallel story } doneTasks } errors { code line message } } }`;
  const md = '# Tasks\n\n## Phase 1: Setup\n- [x] T001 Init\n\n## Phase 2: Core\n- [ ] T002 [P] [US1] Build it\n- [X] T003 Done\n';
  const r = await gql(svc.url, q, { md }, TOKENS.viewer);
  expect(r.body.data.previewNextPhase).toEqual({
    status: 'PHASE',
    phase: { id: '2', title: 'Core', line: 6, parent: null, openTasks: [{ id: 'T002', line: 7, parallel: true, story: 'US1' }], doneTasks: 1 },
    errors: [],
  });
  const invalid = await gql(svc.url, q, { md: 'just notes\n- [ ] T1 x\n' }, TOKENS.viewer);
  expect(invalid.body.data.previewNextPhase.status).toBe('INVALID');
  expect(invalid.body.data.previewNextPhase.errors[0].code).toMatch(/NO_PHASE_HEADING|TASKS_OUTSIDE_PHASES/);
});

test('server shutdown closes subscription sockets with a clear reason', async () => {
  const extra = await createTestDatabase();
  const other = await startService(extra.url);
  const client = createClient({
    url: `${other.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${TOKENS.viewer}` },
    retryAttempts: 0,
  });
  const connected = new Promise((resolve) => client.on('connected', resolve));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => client.on('closed', (e) => resolve(e as { code: number; reason: string })));
  client.subscribe({ query: 'subscription { runUpdated(runId: "00000000-0000-0000-0000-000000000000") { version } }' }, { next: () => {}, error: () => {}, complete: () => {} });
  await connected;
  await other.close();
  expect(await closed).toMatchObject({ code: 1001, reason: 'Server shutting down' });
  await client.dispose();
  await extra.drop();
});
