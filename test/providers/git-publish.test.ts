import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FailureCode, FailureKind } from '../../src/interfaces.js';
import { branchName, createGit, type Git } from '../../src/providers/git/index.js';
import { startGitHubEmulator, type GitHubEmulator } from '../../src/sandbox/github/index.js';
import { makeDiff, makeRemote, sh, tempDir } from './git-fixture.js';
import { failure } from './provider-error.js';

const BASE = { 'f.txt': 'a\nb\nc\n' };
const CHANGE = makeDiff(BASE, { 'f.txt': 'a\nB\nc\n', 'new.txt': 'new\n' });
const AUTHOR = { name: 'Spec Chain', email: 'spec-chain@example.invalid' };
const DATE = '2024-06-01T10:00:00Z';
const BRANCH = branchName('001-widgets', '2');

let root: string;
let gitRoot: string;
let git: Git;

const remoteRef = (repository: string, ref: string) => {
  try {
    return sh(join(gitRoot, `${repository}.git`), 'rev-parse', '--verify', '-q', ref).trim();
  } catch {
    return null;
  }
};
const missingBlobs = (cache: string) =>
  sh(cache, 'rev-list', '--objects', '--all', '--missing=print')
    .split('\n')
    .filter((l) => l.startsWith('?')).length;

/** One run of the phase: fetch the base, apply the patch as a commit. */
async function phase(g: Git, repository: string, date = DATE, auth?: { token: string; secretRef: string }) {
  const baseSha = await g.fetchBase({ repository, baseBranch: 'main', auth });
  const result = await g.applyPatchToCommit({ repository, baseSha, diff: CHANGE, commit: { message: 'Phase 2', author: AUTHOR, date }, auth });
  expect(result.outcome).toBe('committed');
  return { baseSha, sha: result.sha! };
}

beforeAll(() => {
  root = tempDir();
  gitRoot = join(root, 'remote');
  git = createGit({ cacheDir: join(root, 'cache'), gitBaseUrl: pathToFileURL(gitRoot).href });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('fetchBase', () => {
  it("fetches the branch's history without its blobs, and follows the branch when it moves", async () => {
    const files = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`src/m${i}.txt`, `m${i}\n`]));
    const first = makeRemote(gitRoot, 'acme/fetched', { ...BASE, ...files });
    expect(await git.fetchBase({ repository: 'acme/fetched', baseBranch: 'main' })).toBe(first);
    const cache = join(root, 'cache', 'acme', 'fetched.git');
    expect(missingBlobs(cache)).toBe(21);
    // Trees are all there: listing the commit needs no fetch.
    expect(sh(cache, 'ls-tree', '-r', '--name-only', first).split('\n').filter(Boolean)).toHaveLength(21);
    const moved = makeRemote(gitRoot, 'acme/fetched', { 'g.txt': 'g\n' });
    expect(await git.fetchBase({ repository: 'acme/fetched', baseBranch: 'main' })).toBe(moved);
    // A recorded commit is found in the cache without asking the remote.
    expect(await git.fetchBase({ repository: 'acme/fetched', baseSha: first })).toBe(first);
    // The cache's config names no remote, URL or filter: each command is given them.
    expect(readFileSync(join(cache, 'config'), 'utf8')).not.toMatch(/remote|url|promisor|partialclone/i);
  });

  it('serves concurrent runs of one repository from one cache', async () => {
    const sha = makeRemote(gitRoot, 'acme/busy', BASE);
    const shas = await Promise.all([1, 2, 3, 4, 5].map(() => git.fetchBase({ repository: 'acme/busy', baseBranch: 'main' })));
    expect(shas).toEqual(Array(5).fill(sha));
    const trees = await Promise.all(shas.map((s) => git.readTree({ repository: 'acme/busy', sha: s })));
    const texts = await Promise.all(trees.map(async (t) => Buffer.from(await t.read('f.txt')).toString('utf8')));
    expect(texts).toEqual(Array(5).fill(BASE['f.txt']));
  });

  it("waits out another process's lock on the cache", async () => {
    makeRemote(gitRoot, 'acme/locked', BASE);
    await git.fetchBase({ repository: 'acme/locked', baseBranch: 'main' });
    const next = makeRemote(gitRoot, 'acme/locked', { 'more.txt': 'more\n' });
    // Another worker is updating the same ref: its lock file is there for 400 ms.
    const lock = join(root, 'cache', 'acme', 'locked.git', 'refs', 'remotes', 'origin', 'main.lock');
    writeFileSync(lock, '');
    const released = new Promise<void>((resolve) => setTimeout(() => (rmSync(lock), resolve()), 400));
    const started = performance.now();
    const sha = await git.fetchBase({ repository: 'acme/locked', baseBranch: 'main' });
    await released;
    expect(sha).toBe(next);
    expect(performance.now() - started).toBeGreaterThanOrEqual(350);
  });

  it('says REPOSITORY_UNAVAILABLE for a missing branch, commit or repository', async () => {
    makeRemote(gitRoot, 'acme/branchless', BASE);
    for (const input of [
      { repository: 'acme/branchless', baseBranch: 'nope' },
      { repository: 'acme/branchless', baseSha: 'f'.repeat(40) },
      { repository: 'acme/absent', baseBranch: 'main' },
      { repository: '../escape', baseBranch: 'main' },
    ]) {
      const e = await failure(git.fetchBase(input));
      expect([e.kind, e.code]).toEqual([FailureKind.PERMANENT, FailureCode.REPOSITORY_UNAVAILABLE]);
    }
  });
});

describe('pushCommit', () => {
  it('publishes a branch once however often the phase is repeated, and never over a concurrent change', async () => {
    makeRemote(gitRoot, 'acme/push', BASE);
    const first = await phase(git, 'acme/push');
    const pushed = await git.pushCommit({ repository: 'acme/push', branch: BRANCH, sha: first.sha, expectedRemoteSha: null });
    expect(pushed).toEqual({ branch: BRANCH, sha: first.sha, updated: true });
    expect(remoteRef('acme/push', `refs/heads/${BRANCH}`)).toBe(first.sha);

    // The same phase again (a retry on another worker): same commit, same branch, nothing to do.
    const other = createGit({ cacheDir: join(root, 'cache-b'), gitBaseUrl: pathToFileURL(gitRoot).href });
    const repeat = await phase(other, 'acme/push');
    expect(repeat.sha).toBe(first.sha);
    expect(await other.pushCommit({ repository: 'acme/push', branch: BRANCH, sha: repeat.sha, expectedRemoteSha: null })).toEqual({
      branch: BRANCH,
      sha: first.sha,
      updated: false,
    });
    expect(sh(join(gitRoot, 'acme/push.git'), 'for-each-ref', '--format=%(refname)', 'refs/heads/spec-chain').trim().split('\n')).toEqual([
      `refs/heads/${BRANCH}`,
    ]);

    // A new attempt with a new commit moves our own branch.
    const second = await phase(git, 'acme/push', '2024-06-02T10:00:00Z');
    expect(await git.pushCommit({ repository: 'acme/push', branch: BRANCH, sha: second.sha, expectedRemoteSha: first.sha })).toMatchObject({
      updated: true,
    });
    expect(remoteRef('acme/push', `refs/heads/${BRANCH}`)).toBe(second.sha);

    // Someone else pushes to the branch: our lease no longer holds, their commit stays.
    const theirs = makeRemote(gitRoot, 'acme/push', { 'theirs.txt': 'theirs\n' }, BRANCH);
    const third = await phase(git, 'acme/push', '2024-06-03T10:00:00Z');
    for (const expectedRemoteSha of [second.sha, null]) {
      const e = await failure(git.pushCommit({ repository: 'acme/push', branch: BRANCH, sha: third.sha, expectedRemoteSha }));
      expect([e.kind, e.code]).toEqual([FailureKind.PERMANENT, FailureCode.PUSH_REJECTED]);
      expect(e.details.remoteSha).toBe(theirs);
      expect(remoteRef('acme/push', `refs/heads/${BRANCH}`)).toBe(theirs);
    }
  });

  it("sends only the new objects, even when the remote's branches moved past what the cache knows", async () => {
    const files = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`lib/m${i}.txt`, `module ${i}\n`]));
    makeRemote(gitRoot, 'acme/partial', { ...BASE, ...files });
    const made = await phase(git, 'acme/partial');
    makeRemote(gitRoot, 'acme/partial', { 'later.txt': 'someone else\n' });
    const cache = join(root, 'cache', 'acme', 'partial.git');
    const before = missingBlobs(cache);
    expect(before).toBe(30);
    await git.pushCommit({ repository: 'acme/partial', branch: BRANCH, sha: made.sha, expectedRemoteSha: null });
    expect(remoteRef('acme/partial', `refs/heads/${BRANCH}`)).toBe(made.sha);
    // Nothing was fetched to build the pack: the untouched blobs are still only on the remote.
    expect(missingBlobs(cache)).toBe(before);
  });

  it('refuses an invalid branch name or commit id before running git, and a commit the cache lacks', async () => {
    for (const input of [
      { branch: 'bad..name', sha: 'a'.repeat(40) },
      { branch: 'ok', sha: 'HEAD' },
    ]) {
      const e = await failure(git.pushCommit({ repository: 'acme/push', expectedRemoteSha: null, ...input }));
      expect(e.code).toBe(FailureCode.PUSH_REJECTED);
    }
    const e = await failure(git.pushCommit({ repository: 'acme/push', branch: 'ok', sha: 'a'.repeat(40), expectedRemoteSha: null }));
    expect(e.code).toBe(FailureCode.INTERNAL);
    expect(e.message).toMatch(/not in this machine's cache/);
  });
});

describe('over HTTPS-like remotes with a token', () => {
  const TOKEN = 'ghp_SuperSecretToken0123456789abcdef';
  const BASIC = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');
  let emulator: GitHubEmulator;
  let argvLog: string;
  let httpGit: Git;
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    makeRemote(gitRoot, 'acme/http', { ...BASE, 'specs/001-widgets/tasks.md': '## Phase 1: Setup\n\n- [ ] T001 set up\n' });
    emulator = await startGitHubEmulator({
      gitRoot,
      tokens: { [TOKEN]: { login: 'writer', permission: 'WRITE' }, ghp_read_only_token_0000: { login: 'reader', permission: 'READ' } },
    });
    // A git that writes down its arguments (and the names of the GIT_ variables it got) before running.
    argvLog = join(root, 'argv.log');
    const wrapper = join(root, 'git-wrapper.sh');
    writeFileSync(wrapper, `#!/bin/sh\nprintf 'ARGS %s\\n' "$*" >> '${argvLog}'\nenv | grep '^GIT_' | cut -d= -f1 | sed 's/^/ENV /' >> '${argvLog}'\nexec git "$@"\n`);
    chmodSync(wrapper, 0o755);
    httpGit = createGit({ cacheDir: join(root, 'cache-http'), gitBaseUrl: emulator.gitBaseUrl, gitBinary: wrapper });
    // Tracing variables of the worker's own environment must not reach git (they would print headers).
    for (const [name, value] of Object.entries({ GIT_TRACE: '1', GIT_TRACE_CURL: '1', GIT_TRACE_REDACT: '0', GIT_CURL_VERBOSE: '1' })) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
  });
  afterAll(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await emulator.stop();
  });

  const auth = { token: TOKEN, secretRef: 'env:GITHUB_TOKEN' };
  const noSecret = (text: string) => {
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(BASIC);
  };

  it('fetches (history, then single blobs), reads, applies and pushes with the token in the environment only', async () => {
    const baseSha = await httpGit.fetchBase({ repository: 'acme/http', baseBranch: 'main', auth });
    const cache = join(root, 'cache-http', 'acme', 'http.git');
    expect(missingBlobs(cache)).toBe(2);
    const tree = await httpGit.readTree({ repository: 'acme/http', sha: baseSha, auth });
    expect(Buffer.from(await tree.read('specs/001-widgets/tasks.md')).toString('utf8')).toContain('T001');
    expect(missingBlobs(cache)).toBe(1);
    const applied = await httpGit.applyPatchToCommit({ repository: 'acme/http', baseSha, diff: CHANGE, commit: { message: 'Phase 2', author: AUTHOR, date: DATE }, auth });
    expect(applied.outcome).toBe('committed');
    noSecret(applied.output);
    expect(missingBlobs(cache)).toBe(0);
    expect(await httpGit.pushCommit({ repository: 'acme/http', branch: BRANCH, sha: applied.sha!, expectedRemoteSha: null, auth })).toMatchObject({
      updated: true,
    });
    expect(remoteRef('acme/http', `refs/heads/${BRANCH}`)).toBe(applied.sha);

    const log = readFileSync(argvLog, 'utf8');
    expect(log).toMatch(/^ARGS .*fetch /m);
    expect(log).toMatch(/^ARGS .*fetch origin .*--stdin/m);
    expect(log).toMatch(/^ARGS .*push /m);
    expect(log).toMatch(/^ENV GIT_CONFIG_VALUE_0$/m); // the header travels in the environment...
    expect(log).not.toMatch(/^ENV GIT_TRACE/m); // ...and no tracing came along
    noSecret(log); // ...never in an argument
    noSecret(readFileSync(join(cache, 'config'), 'utf8')); // ...nor in the cache's config
    const gitRequests = emulator.requests().filter((r) => r.kind === 'git');
    expect(gitRequests.length).toBeGreaterThan(0);
    expect(gitRequests.every((r) => r.login === 'writer')).toBe(true);
  });

  it('classifies a refused token, a read-only token, a missing repository and an unreachable remote', async () => {
    const badAuth = { token: 'ghp_wrong_token_abcdef0123456789', secretRef: 'env:GITHUB_TOKEN' };
    let e = await failure(httpGit.fetchBase({ repository: 'acme/http', baseBranch: 'main', auth: badAuth }));
    expect([e.kind, e.code, e.secretRef]).toEqual([FailureKind.CREDENTIALS, FailureCode.CREDENTIALS_INVALID, 'env:GITHUB_TOKEN']);
    expect(e.message).not.toContain(badAuth.token);
    expect(JSON.stringify(e.details)).not.toContain(badAuth.token);

    e = await failure(httpGit.fetchBase({ repository: 'acme/http', baseBranch: 'main' }));
    expect(e.kind).toBe(FailureKind.CREDENTIALS);

    const { sha } = await phase(httpGit, 'acme/http', '2024-06-09T10:00:00Z', auth);
    e = await failure(
      httpGit.pushCommit({
        repository: 'acme/http',
        branch: 'by-reader',
        sha,
        expectedRemoteSha: null,
        auth: { token: 'ghp_read_only_token_0000', secretRef: 'env:READER' },
      }),
    );
    expect([e.kind, e.code, e.secretRef]).toEqual([FailureKind.CREDENTIALS, FailureCode.PERMISSION_DENIED, 'env:READER']);
    noSecret(e.message + JSON.stringify(e.details));

    e = await failure(httpGit.fetchBase({ repository: 'acme/nowhere', baseBranch: 'main', auth }));
    expect([e.kind, e.code]).toEqual([FailureKind.PERMANENT, FailureCode.REPOSITORY_UNAVAILABLE]);

    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const offline = createGit({ cacheDir: join(root, 'cache-offline'), gitBaseUrl: `http://127.0.0.1:${port}` });
    e = await failure(offline.fetchBase({ repository: 'acme/http', baseBranch: 'main', auth }));
    expect([e.kind, e.code]).toEqual([FailureKind.TRANSIENT, FailureCode.SERVICE_UNAVAILABLE]);
    noSecret(readFileSync(argvLog, 'utf8'));
  });
});
