import { createServer } from 'node:net';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FailureCode, FailureKind } from '../../src/interfaces.js';
import type { ProviderError } from '../../src/providers/errors.js';
import { checkGitHubAccess, createGitHub, type GitHub } from '../../src/providers/github/index.js';
import { startGitHubEmulator, type EmulatorToken, type Fault, type GitHubEmulator } from '../../src/sandbox/github/index.js';
import { makeRemote, tempDir } from './git-fixture.js';
import { failure as providerFailure } from './provider-error.js';

const REPO = 'acme/widgets';
const tokenCredential = (githubTokenRef: string) => ({ githubTokenRef, githubAppId: null, githubAppInstallationId: null, githubAppPrivateKeyRef: null });
const BRANCH = 'spec-chain/001-widgets/phase-1';

// One token per scenario: what a client learns about a token (spacing, rate limits) is shared per token.
const names = [
  'main', 'racer', 'other', 'spacing', 'limited', 'limited60', 'secondary', 'gateway', 'timeout', 'internal', 'forbidden', 'revoked',
] as const;
const token = (name: string) => `ghp_${name}_0123456789abcdef`;
const TOKENS: Record<string, EmulatorToken> = Object.fromEntries(names.map((n) => [token(n), { login: `user-${n}`, permission: 'WRITE' as const }]));
TOKENS[token('reader')] = { login: 'reader', permission: 'READ' };
TOKENS[token('narrow')] = { login: 'narrow', permission: 'ADMIN', repositories: ['acme/elsewhere'] };

let root: string;
let emulator: GitHubEmulator;
let mainSha: string;
let branchSha: string;

const client = (name: string, baseUrl = emulator.url): GitHub =>
  createGitHub({ baseUrl, token: token(name), tokenRef: `env:GITHUB_TOKEN_${name.toUpperCase()}` });

/** The ProviderError a call fails with, after checking it carries no token anywhere. */
async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const e = await providerFailure(promise);
  for (const n of [...names, 'reader', 'narrow', 'bogus']) {
    expect(e.message).not.toContain(token(n));
    expect(JSON.stringify(e.details)).not.toContain(token(n));
  }
  return e;
}

const upsert = (gh: GitHub, title: string, headBranch = BRANCH, body = 'Implements phase 1.') =>
  gh.upsertPullRequest({ repository: REPO, baseBranch: 'main', headBranch, title, body });

beforeAll(async () => {
  root = tempDir();
  const gitRoot = join(root, 'git');
  mainSha = makeRemote(gitRoot, REPO, { 'README.md': '# widgets\n' });
  branchSha = makeRemote(gitRoot, REPO, { 'src/widget.ts': 'export {};\n' }, BRANCH);
  for (const n of [1, 2, 3]) makeRemote(gitRoot, REPO, { [`n${n}.txt`]: `${n}\n` }, `spaced-${n}`);
  makeRemote(gitRoot, REPO, { 'race.txt': 'r\n' }, 'race');
  makeRemote(gitRoot, REPO, { 'both.txt': 'b\n' }, 'both');
  emulator = await startGitHubEmulator({ gitRoot, tokens: TOKENS });
});
afterAll(async () => {
  await emulator.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('getRepositoryState', () => {
  it('reads id, permission, default branch, the branch and its open pull requests', async () => {
    const state = await client('main').getRepositoryState({ repository: REPO, branch: BRANCH });
    expect(state).toMatchObject({
      nameWithOwner: REPO,
      viewerPermission: 'WRITE',
      defaultBranch: { name: 'main', oid: mainSha },
      branch: { name: BRANCH, oid: branchSha },
      openPullRequests: [],
    });
    expect(state.id).toMatch(/^R_/);
    expect(state.rateLimit?.remaining).toBeGreaterThan(0);
    const missing = await client('main').getRepositoryState({ repository: REPO, branch: 'no-such-branch' });
    expect(missing.branch).toBeNull();
  });

  it('says REPOSITORY_UNAVAILABLE for a repository GitHub cannot find', async () => {
    const e = await failure(client('main').getRepositoryState({ repository: 'acme/missing', branch: 'main' }));
    expect([e.kind, e.code]).toEqual([FailureKind.PERMANENT, FailureCode.REPOSITORY_UNAVAILABLE]);
  });
});

describe('upsertPullRequest', () => {
  it('creates once, then updates the same pull request', async () => {
    const gh = client('main');
    const first = await upsert(gh, 'Phase 1: widgets');
    expect(first).toMatchObject({ number: 1, created: true, url: `${emulator.url}/${REPO}/pull/1` });
    const second = await upsert(gh, 'Phase 1: widgets (again)');
    expect(second).toMatchObject({ number: 1, created: false, url: first.url });
    const prs = emulator.pullRequests(REPO).filter((pr) => pr.headRefName === BRANCH);
    expect(prs).toHaveLength(1);
    expect(prs[0]).toMatchObject({ title: 'Phase 1: widgets (again)', state: 'OPEN', baseRefName: 'main' });

    // Nothing changed: no mutation at all.
    const before = emulator.requests().filter((r) => r.operationType === 'mutation').length;
    expect(await upsert(gh, 'Phase 1: widgets (again)')).toMatchObject({ number: 1, created: false });
    expect(emulator.requests().filter((r) => r.operationType === 'mutation').length).toBe(before);
  });

  it('looks the pull request up again when a create loses the race (UNPROCESSABLE)', async () => {
    // Just before our create reaches GitHub, another client opens the pull request for the same branch.
    let rival: Awaited<ReturnType<GitHub['upsertPullRequest']>> | undefined;
    emulator.beforeOperation('CreatePullRequest', async () => {
      rival = await upsert(client('racer'), 'Opened by the rival', 'race');
    });
    const ours = await upsert(client('other'), 'Ours wins the title', 'race');
    expect(rival?.created).toBe(true);
    expect(ours).toMatchObject({ number: rival!.number, created: false });
    const log = emulator.requests().filter((r) => r.operationName === 'CreatePullRequest');
    expect(log.map((r) => r.errorTypes)).toContainEqual(['UNPROCESSABLE']);
    const prs = emulator.pullRequests(REPO).filter((pr) => pr.headRefName === 'race');
    expect(prs).toHaveLength(1);
    expect(prs[0]!.title).toBe('Ours wins the title');
  });

  it('ends with one pull request when two clients upsert at once', async () => {
    const [a, b] = await Promise.all([upsert(client('racer'), 'A', 'both'), upsert(client('other'), 'B', 'both')]);
    expect(a.number).toBe(b.number);
    expect([a.created, b.created].sort()).toEqual([false, true]);
    expect(emulator.pullRequests(REPO).filter((pr) => pr.headRefName === 'both')).toHaveLength(1);
  });

  it('leaves at least one second between mutations of one token', async () => {
    const gh = client('spacing');
    const started = Date.now();
    await Promise.all([1, 2, 3].map((n) => upsert(gh, `Spaced ${n}`, `spaced-${n}`)));
    await upsert(gh, 'Spaced 1, retitled', 'spaced-1');
    const times = emulator
      .requests()
      .filter((r) => r.login === 'user-spacing' && r.operationType === 'mutation' && r.at >= started)
      .map((r) => r.at);
    expect(times).toHaveLength(4);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    console.info(`gaps between mutations (ms): ${gaps.join(', ')}`);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(1000);
  });
});

describe('failures are classified by type and status', () => {
  const cases: [string, string, Fault, FailureKind, FailureCode, [number, number] | null][] = [
    ['RATE_LIMITED with a reset', 'limited', { kind: 'RATE_LIMITED', resetInSeconds: 30 }, FailureKind.TRANSIENT, FailureCode.RATE_LIMITED, [25_000, 31_000]],
    [
      'RATE_LIMIT without a reset: a minute',
      'limited60',
      { kind: 'RATE_LIMITED', errorType: 'RATE_LIMIT', remaining: 100 },
      FailureKind.TRANSIENT,
      FailureCode.RATE_LIMITED,
      [60_000, 60_000],
    ],
    ['secondary limit (403 + retry-after)', 'secondary', { kind: 'SECONDARY_RATE_LIMIT', retryAfterSeconds: 7 }, FailureKind.TRANSIENT, FailureCode.RATE_LIMITED, [7000, 7000]],
    ['502', 'gateway', { kind: 'BAD_GATEWAY' }, FailureKind.TRANSIENT, FailureCode.SERVICE_UNAVAILABLE, null],
    ['504', 'timeout', { kind: 'GATEWAY_TIMEOUT' }, FailureKind.TRANSIENT, FailureCode.SERVICE_UNAVAILABLE, null],
    ['INTERNAL', 'internal', { kind: 'INTERNAL' }, FailureKind.TRANSIENT, FailureCode.SERVICE_UNAVAILABLE, null],
    ['a revoked token (401)', 'revoked', { kind: 'BAD_CREDENTIALS' }, FailureKind.CREDENTIALS, FailureCode.CREDENTIALS_INVALID, null],
  ];
  for (const [label, name, fault, kind, code, wait] of cases) {
    it(label, async () => {
      emulator.inject({ ...fault, operation: 'RepoState' });
      const e = await failure(client(name).getRepositoryState({ repository: REPO, branch: BRANCH }));
      expect([e.kind, e.code]).toEqual([kind, code]);
      if (wait) {
        expect(e.retryAfterMs).toBeGreaterThanOrEqual(wait[0]);
        expect(e.retryAfterMs).toBeLessThanOrEqual(wait[1]);
      }
      if (kind === FailureKind.CREDENTIALS) expect(e.secretRef).toBe(`env:GITHUB_TOKEN_${name.toUpperCase()}`);
    });
  }

  it('after a rate limit, the same token waits without asking GitHub again', async () => {
    const sent = emulator.requests().length;
    const e = await failure(client('secondary').getRepositoryState({ repository: REPO, branch: BRANCH }));
    expect(e.code).toBe(FailureCode.RATE_LIMITED);
    expect(e.retryAfterMs).toBeGreaterThan(1000);
    expect(emulator.requests().length).toBe(sent);
  });

  it('FORBIDDEN on a mutation: CREDENTIALS PERMISSION_DENIED naming the secret', async () => {
    emulator.inject({ kind: 'FORBIDDEN' });
    const e = await failure(upsert(client('forbidden'), 'Forbidden', 'spaced-3'));
    expect([e.kind, e.code, e.secretRef]).toEqual([FailureKind.CREDENTIALS, FailureCode.PERMISSION_DENIED, 'env:GITHUB_TOKEN_FORBIDDEN']);
    expect(e.details.errorTypes).toEqual(['FORBIDDEN']);
  });

  it('an unknown token: CREDENTIALS_INVALID', async () => {
    const gh = createGitHub({ baseUrl: emulator.url, token: token('bogus'), tokenRef: 'file:/run/secrets/github' });
    const e = await failure(gh.getRepositoryState({ repository: REPO, branch: BRANCH }));
    expect([e.kind, e.code, e.secretRef]).toEqual([FailureKind.CREDENTIALS, FailureCode.CREDENTIALS_INVALID, 'file:/run/secrets/github']);
  });

  it('nothing listening: TRANSIENT', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const e = await failure(client('main', `http://127.0.0.1:${port}`).getRepositoryState({ repository: REPO, branch: BRANCH }));
    expect([e.kind, e.code]).toEqual([FailureKind.TRANSIENT, FailureCode.SERVICE_UNAVAILABLE]);
  });
});

describe('checkAccess (preflight)', () => {
  it('finds no issue for a token that can publish', async () => {
    expect(await client('main').checkAccess([REPO])).toEqual([]);
  });

  it('reports READ permission, an invisible repository and a bad token, each naming the reference', async () => {
    const reader = createGitHub({ baseUrl: emulator.url, token: token('reader'), tokenRef: 'env:READER' });
    expect(await reader.checkAccess([REPO])).toEqual([
      { ref: 'env:READER', code: FailureCode.PERMISSION_DENIED, message: expect.stringMatching(/has READ permission on acme\/widgets; publishing needs WRITE/) },
    ]);
    const narrow = createGitHub({ baseUrl: emulator.url, token: token('narrow'), tokenRef: 'env:NARROW' });
    expect(await narrow.checkAccess([REPO])).toEqual([
      { ref: 'env:NARROW', code: FailureCode.REPOSITORY_UNAVAILABLE, message: expect.stringMatching(/cannot see acme\/widgets/) },
    ]);
    const bogus = createGitHub({ baseUrl: emulator.url, token: token('bogus'), tokenRef: 'env:BOGUS' });
    const [issue] = await bogus.checkAccess([REPO]);
    expect(issue).toMatchObject({ ref: 'env:BOGUS', code: FailureCode.CREDENTIALS_INVALID });
    expect(issue!.message).not.toContain(token('bogus'));
  });

  it('reads the token from its reference; a missing secret is an issue', async () => {
    process.env.SPEC_CHAIN_TEST_GITHUB_TOKEN = token('main');
    expect(await checkGitHubAccess({ baseUrl: emulator.url, credential: tokenCredential('env:SPEC_CHAIN_TEST_GITHUB_TOKEN'), repositories: [REPO] })).toEqual([]);
    delete process.env.SPEC_CHAIN_TEST_GITHUB_TOKEN;
    const [issue] = await checkGitHubAccess({ baseUrl: emulator.url, credential: tokenCredential('env:SPEC_CHAIN_TEST_GITHUB_TOKEN'), repositories: [REPO] });
    expect(issue).toMatchObject({ ref: 'env:SPEC_CHAIN_TEST_GITHUB_TOKEN', code: FailureCode.CREDENTIALS_MISSING });
  });
});

describe('ensureBranch', () => {
  it('creates the branch, moves it forward, and does nothing when it is already there', async () => {
    const gh = client('other');
    expect(await gh.ensureBranch({ repository: REPO, branch: 'api/branch', oid: mainSha })).toEqual({ created: true, updated: false });
    expect(await gh.ensureBranch({ repository: REPO, branch: 'api/branch', oid: branchSha })).toEqual({ created: false, updated: true });
    expect(await gh.ensureBranch({ repository: REPO, branch: 'api/branch', oid: branchSha })).toEqual({ created: false, updated: false });
    expect((await gh.getRepositoryState({ repository: REPO, branch: 'api/branch' })).branch?.oid).toBe(branchSha);
  });
});
