import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDataSource } from '../../src/db/datasource.js';
import { createAppTokens } from '../../src/providers/github/app.js';
import { createTokenCache, pgTokenCache } from '../../src/providers/github/app-tokens.js';
import { checkGitHubAccess } from '../../src/providers/github/index.js';
import { startGitHubEmulator, type GitHubEmulator } from '../../src/sandbox/github/index.js';
import { createTestDatabase } from '../support/database.js';
import { makeRemote, tempDir } from './git-fixture.js';

const keyPair = () =>
  generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });

const APP = keyPair();
const READ_ONLY_APP = keyPair();
const OTHER = keyPair();

let root: string;
let emulator: GitHubEmulator;
const refs: Record<string, string> = {};

beforeAll(async () => {
  root = tempDir();
  const gitRoot = join(root, 'git');
  makeRemote(gitRoot, 'acme/widgets', { 'README.md': '# widgets\n' });
  makeRemote(gitRoot, 'acme/other', { 'README.md': '# other\n' });
  emulator = await startGitHubEmulator({
    gitRoot,
    tokens: {},
    apps: {
      '11': {
        publicKey: APP.publicKey,
        slug: 'builder',
        installations: [{ id: 110, account: 'acme', repositories: ['acme/widgets'], permissions: { contents: 'write', pull_requests: 'write', metadata: 'read' } }],
      },
      '12': {
        publicKey: READ_ONLY_APP.publicKey,
        slug: 'reader',
        installations: [{ id: 120, account: 'acme', permissions: { contents: 'read', metadata: 'read' } }],
      },
    },
  });
  for (const [name, pem] of [
    ['app', APP.privateKey],
    ['readonly', READ_ONLY_APP.privateKey],
    ['other', OTHER.privateKey],
    ['garbage', 'not a key at all\n'],
  ] as const) {
    writeFileSync(join(root, `${name}.pem`), pem);
    refs[name] = `file:${join(root, `${name}.pem`)}`;
  }
});
afterAll(async () => emulator?.stop());
beforeEach(() => {
  emulator.apps.tokenTtlMs = 3600_000;
});

const app = (key: string, appId = '11', installationId: string | null = null) => ({ appId, installationId, privateKeyRef: refs[key]! });
const minted = () => emulator.apps.minted.length;

describe('installation tokens', () => {
  it('are minted from the key, work for GraphQL and are reused while they last', async () => {
    const tokens = createAppTokens({ baseUrl: emulator.url, app: app('app'), repository: 'acme/widgets', cache: createTokenCache() });
    const before = minted();
    const token = await tokens.token();
    expect(token).toMatch(/^ghs_/);
    expect(await tokens.token()).toBe(token);
    expect(minted()).toBe(before + 1);
    const res = await fetch(`${emulator.url}/graphql`, {
      method: 'POST',
      headers: { authorization: `token ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ viewer { login } repository(owner: "acme", name: "widgets") { viewerPermission } }' }),
    });
    expect((await res.json()).data).toEqual({ viewer: { login: 'builder[bot]' }, repository: { viewerPermission: 'WRITE' } });
  });

  it('are refreshed when less than the margin is left', async () => {
    emulator.apps.tokenTtlMs = 60_000;
    const tokens = createAppTokens({ baseUrl: emulator.url, app: app('app'), repository: 'acme/widgets', cache: createTokenCache(), refreshMarginMs: 120_000 });
    const before = minted();
    const first = await tokens.token();
    const second = await tokens.token();
    expect(second).not.toBe(first);
    expect(minted()).toBe(before + 2);
  });

  it('are minted once for many callers at once in one process', async () => {
    const cache = createTokenCache();
    const before = minted();
    const many = await Promise.all(
      Array.from({ length: 20 }, () => createAppTokens({ baseUrl: emulator.url, app: app('app', '11', '110'), repository: 'acme/widgets', cache, refreshMarginMs: 30 * 60_000 }).token()),
    );
    expect(new Set(many).size).toBe(1);
    expect(minted()).toBe(before + 1);
  });

  it('a kept token GitHub no longer takes: a step’s check reports it revoked, a retry’s check mints another', async () => {
    const tokens = createAppTokens({ baseUrl: emulator.url, app: app('app'), repository: 'acme/widgets', cache: createTokenCache() });
    const first = await tokens.token();
    expect(emulator.apps.expireTokens()).toBeGreaterThan(0);
    const [issue] = await tokens.check();
    expect(issue).toMatchObject({ code: 'CREDENTIALS_INVALID', ref: refs.app });
    expect(issue!.message).toContain('revoked');
    const second = await tokens.token();
    expect(second).not.toBe(first);
    emulator.apps.expireTokens();
    const before = minted();
    expect(await tokens.check(undefined, { replaceRefused: true })).toEqual([]);
    expect(minted()).toBe(before + 1);
    expect(await tokens.token()).not.toBe(second);
  });

  it('expire on GitHub: an expired token is refused', async () => {
    emulator.apps.tokenTtlMs = 1;
    const tokens = createAppTokens({ baseUrl: emulator.url, app: app('app'), repository: 'acme/widgets', cache: createTokenCache(), refreshMarginMs: 0 });
    const token = await tokens.token();
    await new Promise((r) => setTimeout(r, 5));
    const res = await fetch(`${emulator.url}/graphql`, { method: 'POST', headers: { authorization: `token ${token}` }, body: JSON.stringify({ query: '{ viewer { login } }' }) });
    expect(res.status).toBe(401);
  });
});

describe('shared by processes through PostgreSQL', () => {
  let db: { url: string; drop: () => Promise<void> };
  const pools: pg.Pool[] = [];
  const pool = (max: number) => {
    const made = new pg.Pool({ connectionString: db.url, max });
    // The database is dropped with FORCE at the end: a connection still closing sees that, as expected.
    made.on('error', () => {});
    pools.push(made);
    return made;
  };
  beforeAll(async () => {
    db = await createTestDatabase();
    const ds = createDataSource(db.url);
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
    await ds.destroy();
  });
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end()));
    await db?.drop();
  });

  it('many callers of several processes get one token, and the row does not hold it in clear', async () => {
    // Each pool and cache stands for a worker process of its own.
    const workers = Array.from({ length: 4 }, () => pgTokenCache(pool(3)));
    const before = minted();
    const tokens = await Promise.all(
      workers.flatMap((cache) =>
        Array.from({ length: 5 }, () => createAppTokens({ baseUrl: emulator.url, app: app('app', '11', '110'), repository: 'acme/widgets', cache }).token()),
      ),
    );
    expect(new Set(tokens).size).toBe(1);
    expect(minted()).toBe(before + 1);
    const { rows } = await pools[0]!.query('SELECT key, sealed, expires_at FROM github_app_token');
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(tokens[0]);
    // Read with another key (the App's key replaced), the row is no token: a new one is minted.
    const other = await createAppTokens({ baseUrl: emulator.url, app: { ...app('other', '11', '110') }, repository: 'acme/widgets', cache: workers[1]! })
      .token()
      .catch((e: Error) => e);
    expect(other).toBeInstanceOf(Error);
    expect(minted()).toBe(before + 1);
  });

  it('a refused token is forgotten, so the next use mints another', async () => {
    const tokens = createAppTokens({ baseUrl: emulator.url, app: app('app', '11', '110'), repository: 'acme/widgets', cache: pgTokenCache(pool(2)) });
    const first = await tokens.token();
    await tokens.forget(first);
    const second = await tokens.token();
    expect(second).not.toBe(first);
  });
});

describe('preflight names what is wrong, with the key reference', () => {
  const check = (key: string, repository = 'acme/widgets', appId = '11', installationId: string | null = null) =>
    checkGitHubAccess({
      baseUrl: emulator.url,
      credential: { githubTokenRef: null, githubAppId: appId, githubAppInstallationId: installationId, githubAppPrivateKeyRef: refs[key]! },
      repositories: [repository],
      appTokens: createTokenCache(),
    });

  it('all well: no issue', async () => {
    expect(await check('app')).toEqual([]);
  });

  it('a key that is not the App’s', async () => {
    const [issue] = await check('other');
    expect(issue).toMatchObject({ code: 'CREDENTIALS_INVALID', ref: refs.other });
    expect(issue!.message).toContain('is not this App');
  });

  it('a file that is no key at all', async () => {
    const [issue] = await check('garbage');
    expect(issue).toMatchObject({ code: 'CREDENTIALS_INVALID', ref: refs.garbage });
    expect(issue!.message).toContain('cannot sign');
  });

  it('not installed on the repository', async () => {
    const [issue] = await check('app', 'acme/other');
    expect(issue).toMatchObject({ code: 'GITHUB_APP_NOT_INSTALLED', ref: refs.app });
    expect(issue!.message).toContain('acme/other');
  });

  it('installed as another installation than the set names', async () => {
    const [issue] = await check('app', 'acme/widgets', '11', '999');
    expect(issue).toMatchObject({ code: 'GITHUB_APP_NOT_INSTALLED' });
    expect(issue!.message).toContain('installation 110, not as installation 999');
  });

  it('installed without write permissions: names the missing ones', async () => {
    const [issue] = await check('readonly', 'acme/widgets', '12');
    expect(issue).toMatchObject({ code: 'PERMISSION_DENIED', ref: refs.readonly });
    expect(issue!.message).toContain('contents: write and pull_requests: write');
    expect(issue!.message).toContain('contents: read');
  });
});
