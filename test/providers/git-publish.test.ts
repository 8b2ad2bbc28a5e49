import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
let runs = 0;

const dir = () => join(root, 'runs', `run-${++runs}`);
const remoteRef = (repository: string, ref: string) => {
  try {
    return sh(join(gitRoot, `${repository}.git`), 'rev-parse', '--verify', '-q', ref).trim();
  } catch {
    return null;
  }
};

/** One run of the phase: worktree, patch, commit. */
async function phase(g: Git, repository: string, date = DATE) {
  const tree = await g.prepareWorktree({ repository, baseBranch: 'main', dir: dir() });
  expect((await g.applyPatch(tree.path, CHANGE)).outcome).toBe('clean');
  const sha = await g.commit(tree.path, { message: 'Phase 2', author: AUTHOR, date });
  return { ...tree, sha };
}

beforeAll(() => {
  root = tempDir();
  gitRoot = join(root, 'remote');
  git = createGit({ cacheDir: join(root, 'cache'), gitBaseUrl: pathToFileURL(gitRoot).href });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('prepareWorktree', () => {
  it('resets and reuses the worktree of a run, and removeWorktree clears it', async () => {
    const base = makeRemote(gitRoot, 'acme/worktrees', BASE);
    const path = dir();
    const first = await git.prepareWorktree({ repository: 'acme/worktrees', baseBranch: 'main', dir: path });
    expect(first).toEqual({ path, baseSha: base });
    writeFileSync(join(path, 'f.txt'), 'dirty\n');
    writeFileSync(join(path, 'stray.txt'), 'stray\n');
    sh(path, 'add', 'f.txt');

    const moved = makeRemote(gitRoot, 'acme/worktrees', { 'g.txt': 'g\n' });
    const again = await git.prepareWorktree({ repository: 'acme/worktrees', baseBranch: 'main', dir: path });
    expect(again).toEqual({ path, baseSha: moved });
    expect(sh(path, 'status', '--porcelain')).toBe('');
    expect(readFileSync(join(path, 'f.txt'), 'utf8')).toBe(BASE['f.txt']);
    expect(existsSync(join(path, 'stray.txt'))).toBe(false);
    const cache = join(root, 'cache', 'acme', 'worktrees.git');
    expect(sh(cache, 'worktree', 'list', '--porcelain').match(/^worktree /gm)).toHaveLength(2); // the cache and this run

    const pinned = await git.prepareWorktree({ repository: 'acme/worktrees', baseSha: base, dir: path });
    expect(pinned.baseSha).toBe(base);
    expect(sh(path, 'rev-parse', 'HEAD').trim()).toBe(base);

    await git.removeWorktree(path);
    expect(existsSync(path)).toBe(false);
    expect(sh(cache, 'worktree', 'list', '--porcelain').match(/^worktree /gm)).toHaveLength(1);
  });

  it('replaces a folder that is not a worktree of the repository', async () => {
    makeRemote(gitRoot, 'acme/replaced', BASE);
    const path = dir();
    makeRemote(join(root, 'unrelated'), 'x/y', { 'z.txt': 'z\n' });
    sh(root, 'clone', '-q', join(root, 'unrelated', 'x/y.git'), path);
    const tree = await git.prepareWorktree({ repository: 'acme/replaced', baseBranch: 'main', dir: path });
    expect(readFileSync(join(tree.path, 'f.txt'), 'utf8')).toBe(BASE['f.txt']);
    expect(existsSync(join(tree.path, 'z.txt'))).toBe(false);
  });

  it('serves concurrent runs of one repository from one cache', async () => {
    makeRemote(gitRoot, 'acme/busy', BASE);
    const trees = await Promise.all([1, 2, 3, 4, 5].map(() => git.prepareWorktree({ repository: 'acme/busy', baseBranch: 'main', dir: dir() })));
    expect(new Set(trees.map((t) => t.baseSha)).size).toBe(1);
    for (const tree of trees) expect(readFileSync(join(tree.path, 'f.txt'), 'utf8')).toBe(BASE['f.txt']);
  });

  it("waits out another process's lock on the cache", async () => {
    makeRemote(gitRoot, 'acme/locked', BASE);
    await git.prepareWorktree({ repository: 'acme/locked', baseBranch: 'main', dir: dir() });
    const next = makeRemote(gitRoot, 'acme/locked', { 'more.txt': 'more\n' });
    // Another worker is updating the same ref: its lock file is there for 400 ms.
    const lock = join(root, 'cache', 'acme', 'locked.git', 'refs', 'remotes', 'origin', 'main.lock');
    writeFileSync(lock, '');
    const released = new Promise<void>((resolve) => setTimeout(() => (rmSync(lock), resolve()), 400));
    const started = performance.now();
    const tree = await git.prepareWorktree({ repository: 'acme/locked', baseBranch: 'main', dir: dir() });
    await released;
    expect(tree.baseSha).toBe(next);
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
      const e = await failure(git.prepareWorktree({ ...input, dir: dir() }));
      expect([e.kind, e.code]).toEqual([FailureKind.PERMANENT, FailureCode.REPOSITORY_UNAVAILABLE]);
    }
  });
});

describe('pushBranch', () => {
  it('publishes a branch once however often the phase is repeated, and never over a concurrent change', async () => {
    makeRemote(gitRoot, 'acme/push', BASE);
    const first = await phase(git, 'acme/push');
    const pushed = await git.pushBranch({ repository: 'acme/push', worktreePath: first.path, branch: BRANCH, sha: first.sha, expectedRemoteSha: null });
    expect(pushed).toEqual({ branch: BRANCH, sha: first.sha, updated: true });
    expect(remoteRef('acme/push', `refs/heads/${BRANCH}`)).toBe(first.sha);

    // The same phase again (a retry on another worker): same commit, same branch, nothing to do.
    const other = createGit({ cacheDir: join(root, 'cache-b'), gitBaseUrl: pathToFileURL(gitRoot).href });
    const repeat = await phase(other, 'acme/push');
    expect(repeat.sha).toBe(first.sha);
    expect(await other.pushBranch({ repository: 'acme/push', branch: BRANCH, sha: repeat.sha, expectedRemoteSha: null })).toEqual({
      branch: BRANCH,
      sha: first.sha,
      updated: false,
    });
    expect(sh(join(gitRoot, 'acme/push.git'), 'for-each-ref', '--format=%(refname)', 'refs/heads/spec-chain').trim().split('\n')).toEqual([
      `refs/heads/${BRANCH}`,
    ]);

    // A new attempt with a new commit moves our own branch (the worktree knows its repository).
    const second = await phase(git, 'acme/push', '2024-06-02T10:00:00Z');
    expect(await git.pushBranch({ worktreePath: second.path, branch: BRANCH, sha: second.sha, expectedRemoteSha: first.sha })).toMatchObject({
      updated: true,
    });
    expect(remoteRef('acme/push', `refs/heads/${BRANCH}`)).toBe(second.sha);

    // Someone else pushes to the branch: our lease no longer holds, their commit stays.
    const theirs = makeRemote(gitRoot, 'acme/push', { 'theirs.txt': 'theirs\n' }, BRANCH);
    const third = await phase(git, 'acme/push', '2024-06-03T10:00:00Z');
    for (const expectedRemoteSha of [second.sha, null]) {
      const e = await failure(
        git.pushBranch({ repository: 'acme/push', worktreePath: third.path, branch: BRANCH, sha: third.sha, expectedRemoteSha }),
      );
      expect([e.kind, e.code]).toEqual([FailureKind.PERMANENT, FailureCode.PUSH_REJECTED]);
      expect(e.details.remoteSha).toBe(theirs);
      expect(remoteRef('acme/push', `refs/heads/${BRANCH}`)).toBe(theirs);
    }
  });

  it('refuses an invalid branch name or commit id before running git', async () => {
    for (const input of [
      { branch: 'bad..name', sha: 'a'.repeat(40) },
      { branch: 'ok', sha: 'HEAD' },
    ]) {
      const e = await failure(git.pushBranch({ repository: 'acme/push', expectedRemoteSha: null, ...input }));
      expect(e.code).toBe(FailureCode.PUSH_REJECTED);
    }
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
    makeRemote(gitRoot, 'acme/http', BASE);
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

  it('fetches and pushes with the token in the environment only', async () => {
    const tree = await httpGit.prepareWorktree({ repository: 'acme/http', baseBranch: 'main', dir: dir(), auth });
    const applied = await httpGit.applyPatch(tree.path, CHANGE);
    noSecret(applied.output);
    const sha = await httpGit.commit(tree.path, { message: 'Phase 2', author: AUTHOR, date: DATE });
    expect(await httpGit.pushBranch({ repository: 'acme/http', worktreePath: tree.path, branch: BRANCH, sha, expectedRemoteSha: null, auth })).toMatchObject({
      updated: true,
    });
    expect(remoteRef('acme/http', `refs/heads/${BRANCH}`)).toBe(sha);

    const log = readFileSync(argvLog, 'utf8');
    expect(log).toMatch(/^ARGS .*fetch /m);
    expect(log).toMatch(/^ARGS .*push /m);
    expect(log).toMatch(/^ENV GIT_CONFIG_VALUE_0$/m); // the header travels in the environment...
    expect(log).not.toMatch(/^ENV GIT_TRACE/m); // ...and no tracing came along
    noSecret(log); // ...never in an argument
    expect(emulator.requests().filter((r) => r.kind === 'git' && r.login === 'writer').length).toBeGreaterThan(0);
  });

  it('classifies a refused token, a read-only token, a missing repository and an unreachable remote', async () => {
    const badAuth = { token: 'ghp_wrong_token_abcdef0123456789', secretRef: 'env:GITHUB_TOKEN' };
    let e = await failure(httpGit.prepareWorktree({ repository: 'acme/http', baseBranch: 'main', dir: dir(), auth: badAuth }));
    expect([e.kind, e.code, e.secretRef]).toEqual([FailureKind.CREDENTIALS, FailureCode.CREDENTIALS_INVALID, 'env:GITHUB_TOKEN']);
    expect(e.message).not.toContain(badAuth.token);
    expect(JSON.stringify(e.details)).not.toContain(badAuth.token);

    e = await failure(httpGit.prepareWorktree({ repository: 'acme/http', baseBranch: 'main', dir: dir() }));
    expect(e.kind).toBe(FailureKind.CREDENTIALS);

    const tree = await httpGit.prepareWorktree({ repository: 'acme/http', baseBranch: 'main', dir: dir(), auth });
    await httpGit.applyPatch(tree.path, CHANGE);
    const sha = await httpGit.commit(tree.path, { message: 'Phase 3', author: AUTHOR, date: DATE });
    e = await failure(
      httpGit.pushBranch({
        repository: 'acme/http',
        worktreePath: tree.path,
        branch: 'by-reader',
        sha,
        expectedRemoteSha: null,
        auth: { token: 'ghp_read_only_token_0000', secretRef: 'env:READER' },
      }),
    );
    expect([e.kind, e.code, e.secretRef]).toEqual([FailureKind.CREDENTIALS, FailureCode.PERMISSION_DENIED, 'env:READER']);
    noSecret(e.message + JSON.stringify(e.details));

    e = await failure(httpGit.prepareWorktree({ repository: 'acme/nowhere', baseBranch: 'main', dir: dir(), auth }));
    expect([e.kind, e.code]).toEqual([FailureKind.PERMANENT, FailureCode.REPOSITORY_UNAVAILABLE]);

    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const offline = createGit({ cacheDir: join(root, 'cache-offline'), gitBaseUrl: `http://127.0.0.1:${port}` });
    e = await failure(offline.prepareWorktree({ repository: 'acme/http', baseBranch: 'main', dir: dir(), auth }));
    expect([e.kind, e.code]).toEqual([FailureKind.TRANSIENT, FailureCode.SERVICE_UNAVAILABLE]);
    noSecret(readFileSync(argvLog, 'utf8'));
  });
});
