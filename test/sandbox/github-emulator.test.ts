import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startGitHubEmulator, type GitHubEmulator } from '../../src/sandbox/github/index.js';
import { makeRemote, sh, tempDir } from '../providers/git-fixture.js';

const TOKENS = {
  'ghp_writer': { login: 'writer', permission: 'WRITE' as const },
  'ghp_reader': { login: 'reader', permission: 'READ' as const },
  'ghp_narrow': { login: 'narrow', permission: 'ADMIN' as const, repositories: ['acme/other'] },
};

const run = promisify(execFile);

let root: string;
let gitRoot: string;
let stateFile: string;
let emulator: GitHubEmulator;
let mainSha: string;
let featureSha: string;

interface Answer {
  status: number;
  headers: Headers;
  body: { data?: Record<string, any>; errors?: { type?: string; path?: unknown[]; locations?: unknown[]; message: string }[]; message?: string };
}

async function post(query: string, variables: Record<string, unknown> = {}, token = 'ghp_writer'): Promise<Answer> {
  const res = await fetch(`${emulator.url}/graphql`, {
    method: 'POST',
    headers: { authorization: `token ${token}`, accept: 'application/vnd.github.v3+json', 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

const STATE = `query RepoState($owner: String!, $name: String!, $branch: String!) {
  repository(owner: $owner, name: $name) {
    id nameWithOwner viewerPermission
    defaultBranchRef { name target { oid } }
    ref(qualifiedName: $branch) { id name prefix target { oid ... on Commit { messageHeadline } } }
    pullRequests(headRefName: "feature", states: [OPEN], first: 5) { totalCount nodes { number url headRefOid } }
  }
  rateLimit { cost remaining limit resetAt }
}`;

const CREATE_PR = `mutation CreatePullRequest($repositoryId: ID!, $head: String!, $title: String!) {
  createPullRequest(input: { repositoryId: $repositoryId, baseRefName: "main", headRefName: $head, title: $title, body: "b" }) {
    pullRequest { id number url title state headRefName baseRefName }
  }
}`;

beforeAll(async () => {
  root = tempDir();
  gitRoot = join(root, 'git');
  stateFile = join(root, 'state', 'github.json');
  mainSha = makeRemote(gitRoot, 'acme/widgets', { 'README.md': '# widgets\n' });
  featureSha = makeRemote(gitRoot, 'acme/widgets', { 'feature.txt': 'feature\n' }, 'feature');
  makeRemote(gitRoot, 'acme/other', { 'x.txt': 'x\n' });
  emulator = await startGitHubEmulator({ gitRoot, tokens: TOKENS, stateFile });
});
afterAll(async () => {
  await emulator.stop();
  rmSync(root, { recursive: true, force: true });
});
beforeEach(() => emulator.reset());

describe('GraphQL over HTTP', () => {
  it('reads repository state from the bare repository, with rate-limit headers', async () => {
    const { status, headers, body } = await post(STATE, { owner: 'acme', name: 'widgets', branch: 'refs/heads/main' });
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    const repo = body.data!.repository;
    expect(repo.nameWithOwner).toBe('acme/widgets');
    expect(repo.viewerPermission).toBe('WRITE');
    expect(repo.defaultBranchRef).toEqual({ name: 'main', target: { oid: mainSha } });
    expect(repo.ref).toMatchObject({ name: 'main', prefix: 'refs/heads/', target: { oid: mainSha, messageHeadline: 'fixture' } });
    expect(repo.id).toMatch(/^R_/);
    expect(body.data!.rateLimit).toMatchObject({ cost: 1, limit: 5000, remaining: 4999 });
    expect(headers.get('x-ratelimit-limit')).toBe('5000');
    expect(headers.get('x-ratelimit-remaining')).toBe('4999');
    expect(Number(headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
    expect(headers.get('x-ratelimit-used')).toBe('1');
  });

  it('answers an unknown repository with NOT_FOUND, GitHub-shaped', async () => {
    const { status, body } = await post(STATE, { owner: 'acme', name: 'missing', branch: 'main' });
    expect(status).toBe(200);
    expect(body.data).toEqual({ repository: null, rateLimit: expect.any(Object) });
    expect(body.errors).toEqual([
      { type: 'NOT_FOUND', path: ['repository'], locations: [{ line: 2, column: 3 }], message: "Could not resolve to a Repository with the name 'acme/missing'." },
    ]);
  });

  it('hides repositories a token is not given', async () => {
    const { body } = await post(STATE, { owner: 'acme', name: 'widgets', branch: 'main' }, 'ghp_narrow');
    expect(body.errors?.[0]?.type).toBe('NOT_FOUND');
  });

  it('rejects documents that do not validate against the schema', async () => {
    const { status, body } = await post('query { repository(owner: "acme", name: "widgets") { noSuchField } }');
    expect(status).toBe(200);
    expect(body.data).toBeUndefined();
    expect(body.errors?.[0]?.message).toMatch(/noSuchField/);
    expect(body.errors?.[0]?.locations).toEqual([{ line: 1, column: 54 }]);
  });

  it('rejects variable values the schema does not accept', async () => {
    const { body } = await post(STATE, { owner: 'acme', name: 42, branch: 'main' });
    expect(body.data).toBeUndefined();
    expect(body.errors?.[0]?.message).toMatch(/\$name/);
    const missing = await post(STATE, { owner: 'acme' });
    expect(missing.body.errors?.[0]?.message).toMatch(/\$name.*was not provided/);
  });

  it('enforces pagination bounds', async () => {
    const { body } = await post('query { repository(owner: "acme", name: "widgets") { pullRequests(states: [OPEN]) { totalCount } } }');
    expect(body.errors?.[0]?.type).toBe('MISSING_PAGINATION_BOUNDARIES');
  });

  it('answers a bad token with 401 Bad credentials', async () => {
    const { status, body, headers } = await post(STATE, {}, 'ghp_nope');
    expect(status).toBe(401);
    expect(body.message).toBe('Bad credentials');
    expect(headers.get('x-ratelimit-limit')).toBeTruthy();
  });

  it('creates and moves refs in the real repository', async () => {
    const { body } = await post(STATE, { owner: 'acme', name: 'widgets', branch: 'main' });
    const repositoryId = body.data!.repository.id;
    const created = await post(
      `mutation CreateRef($repositoryId: ID!, $oid: GitObjectID!) { createRef(input: { repositoryId: $repositoryId, name: "refs/heads/api-made", oid: $oid }) { ref { id name target { oid } } } }`,
      { repositoryId, oid: mainSha },
    );
    expect(created.body.errors).toBeUndefined();
    expect(sh(join(gitRoot, 'acme/widgets.git'), 'rev-parse', 'refs/heads/api-made').trim()).toBe(mainSha);
    const again = await post(
      `mutation CreateRef($repositoryId: ID!, $oid: GitObjectID!) { createRef(input: { repositoryId: $repositoryId, name: "refs/heads/api-made", oid: $oid }) { ref { id } } }`,
      { repositoryId, oid: mainSha },
    );
    expect(again.body.errors?.[0]).toMatchObject({ type: 'UNPROCESSABLE', path: ['createRef'] });

    const moved = await post(
      `mutation UpdateRef($refId: ID!, $oid: GitObjectID!) { updateRef(input: { refId: $refId, oid: $oid }) { ref { target { oid } } } }`,
      { refId: created.body.data!.createRef.ref.id, oid: featureSha },
    );
    expect(moved.body.errors).toBeUndefined();
    expect(sh(join(gitRoot, 'acme/widgets.git'), 'rev-parse', 'refs/heads/api-made').trim()).toBe(featureSha);
  });

  it('forbids mutations to a READ token', async () => {
    const { body } = await post(STATE, { owner: 'acme', name: 'widgets', branch: 'main' }, 'ghp_reader');
    expect(body.data!.repository.viewerPermission).toBe('READ');
    const created = await post(CREATE_PR, { repositoryId: body.data!.repository.id, head: 'feature', title: 't' }, 'ghp_reader');
    expect(created.body.errors?.[0]).toMatchObject({ type: 'FORBIDDEN', path: ['createPullRequest'] });
    expect(created.body.data).toEqual({ createPullRequest: null });
  });

  it('keeps one open pull request per head and base, and keeps them across a restart', async () => {
    emulator.reset({ pullRequests: true });
    const { body } = await post(STATE, { owner: 'acme', name: 'widgets', branch: 'main' });
    const repositoryId = body.data!.repository.id;
    const first = await post(CREATE_PR, { repositoryId, head: 'feature', title: 'One' });
    expect(first.body.errors).toBeUndefined();
    const pr = first.body.data!.createPullRequest.pullRequest;
    expect(pr).toMatchObject({ number: 1, title: 'One', state: 'OPEN', headRefName: 'feature', baseRefName: 'main' });
    expect(pr.url).toBe(`${emulator.url}/acme/widgets/pull/1`);
    const second = await post(CREATE_PR, { repositoryId, head: 'feature', title: 'Two' });
    expect(second.body.errors?.[0]).toMatchObject({ type: 'UNPROCESSABLE', message: 'A pull request already exists for acme:feature.' });
    const none = await post(CREATE_PR, { repositoryId, head: 'main', title: 'Nothing' });
    expect(none.body.errors?.[0]?.type).toBe('UNPROCESSABLE');

    const listed = await post(STATE, { owner: 'acme', name: 'widgets', branch: 'main' });
    expect(listed.body.data!.repository.pullRequests).toEqual({ totalCount: 1, nodes: [{ number: 1, url: pr.url, headRefOid: featureSha }] });
    expect(JSON.parse(readFileSync(stateFile, 'utf8')).pullRequests).toHaveLength(1);

    await emulator.stop();
    emulator = await startGitHubEmulator({ gitRoot, tokens: TOKENS, stateFile });
    expect(emulator.pullRequests().map((p) => [p.number, p.title])).toEqual([[1, 'One']]);
    const page = await fetch(`${emulator.url}/acme/widgets/pull/1`);
    expect(((await page.json()) as { title: string }).title).toBe('One');
  });
});

describe('faults', () => {
  it('are injected over HTTP and served to the named operation only, as GitHub sends them', async () => {
    const injected = await fetch(`${emulator.url}/_emulator/faults`, {
      method: 'POST',
      body: JSON.stringify([
        { kind: 'SECONDARY_RATE_LIMIT', operation: 'RepoState', retryAfterSeconds: 7 },
        { kind: 'BAD_GATEWAY', operation: 'Other' },
      ]),
    });
    expect(injected.status).toBe(201);
    const limited = await post(STATE, { owner: 'acme', name: 'widgets', branch: 'main' });
    expect(limited.status).toBe(403);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(limited.headers.get('x-ratelimit-remaining')).toBeTruthy();
    expect((await post(STATE, { owner: 'acme', name: 'widgets', branch: 'main' })).status).toBe(200);
    expect((await post('query Other { viewer { login } }')).status).toBe(502);
  });

  it('rejects an unknown fault kind', async () => {
    const res = await fetch(`${emulator.url}/_emulator/faults`, { method: 'POST', body: JSON.stringify({ kind: 'NOPE' }) });
    expect(res.status).toBe(422);
  });

  it('RATE_LIMITED, GATEWAY_TIMEOUT, BAD_CREDENTIALS and FORBIDDEN (mutations only) for the next N requests', async () => {
    emulator.inject({ kind: 'RATE_LIMITED', resetInSeconds: 30 });
    const limited = await post('query Viewer { viewer { login } }');
    expect(limited.status).toBe(200);
    expect(limited.body.errors?.[0]?.type).toBe('RATE_LIMITED');
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(Number(limited.headers.get('x-ratelimit-reset')) - Date.now() / 1000).toBeGreaterThan(25);

    emulator.inject({ kind: 'GATEWAY_TIMEOUT', times: 2 });
    expect((await post('query Viewer { viewer { login } }')).status).toBe(504);
    expect((await post('query Viewer { viewer { login } }')).status).toBe(504);
    expect((await post('query Viewer { viewer { login } }')).status).toBe(200);

    emulator.inject({ kind: 'BAD_CREDENTIALS' });
    expect((await post('query Viewer { viewer { login } }')).status).toBe(401);

    emulator.inject({ kind: 'FORBIDDEN' });
    expect((await post('query Viewer { viewer { login } }')).body.errors).toBeUndefined();
    const forbidden = await post(CREATE_PR, { repositoryId: 'R_x', head: 'feature', title: 't' });
    expect(forbidden.body.errors?.[0]).toMatchObject({ type: 'FORBIDDEN', path: ['createPullRequest'] });
  });

  it('lists every request with its operation and variables, and forgets them on reset', async () => {
    await post(STATE, { owner: 'acme', name: 'widgets', branch: 'main', accessToken: 'ghp_secret_value' });
    const res = await fetch(`${emulator.url}/_emulator/requests`);
    const log = (await res.json()) as { operationName: string; variables: Record<string, unknown>; login: string; status: number }[];
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ operationName: 'RepoState', login: 'writer', status: 200 });
    expect(log[0]!.variables).toMatchObject({ owner: 'acme', accessToken: '[redacted]' });
    expect(JSON.stringify(log)).not.toContain('ghp_secret_value');
    expect(JSON.stringify(log)).not.toContain('ghp_writer');
    await fetch(`${emulator.url}/_emulator/reset`, { method: 'POST' });
    expect(emulator.requests()).toEqual([]);
  });
});

describe('git over HTTP', () => {
  // Asynchronous: the emulator answers from this same process.
  const git = async (cwd: string, token: string | null, ...args: string[]) => {
    const header = token === null ? [] : ['-c', `http.extraHeader=Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`];
    const { stdout } = await run('git', [...header, ...args], {
      cwd,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', HOME: root },
    });
    return stdout;
  };

  it('clones with a token, pushes with WRITE, refuses READ pushes and anonymous clones', async () => {
    const work = join(root, 'clone');
    await git(root, 'ghp_writer', 'clone', '-q', `${emulator.gitBaseUrl}/acme/widgets.git`, work);
    expect((await git(work, null, 'rev-parse', 'HEAD')).trim()).toBe(mainSha);
    await git(work, 'ghp_writer', 'push', '-q', 'origin', `${mainSha}:refs/heads/pushed-over-http`);
    expect(sh(join(gitRoot, 'acme/widgets.git'), 'rev-parse', 'refs/heads/pushed-over-http').trim()).toBe(mainSha);
    await expect(git(work, 'ghp_reader', 'push', '-q', 'origin', `${mainSha}:refs/heads/by-reader`)).rejects.toThrow(/403/);
    await expect(git(root, null, 'clone', '-q', `${emulator.gitBaseUrl}/acme/widgets.git`, join(root, 'anon'))).rejects.toThrow();
    expect(emulator.requests().filter((r) => r.kind === 'git').length).toBeGreaterThan(3);
  });
});
