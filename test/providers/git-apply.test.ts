import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FailureCode, FailureKind } from '../../src/interfaces.js';
import { createGit, type Git } from '../../src/providers/git/index.js';
import { makeDiff, makeRemote, sh, tempDir } from './git-fixture.js';
import { failure } from './provider-error.js';

const BASE = { 'f.txt': 'a\nb\nc\n', 'docs/readme.md': '# widgets\n' };
const CHANGE = makeDiff(BASE, { 'f.txt': 'a\nB\nc\n', 'g.txt': 'new\n' });
const AUTHOR = { name: 'Spec Chain', email: 'spec-chain@example.invalid' };

let root: string;
let gitRoot: string;
let git: Git;
let runs = 0;

async function worktree(repository = 'acme/widgets') {
  return git.prepareWorktree({ repository, baseBranch: 'main', dir: join(root, 'runs', `run-${++runs}`) });
}

beforeAll(() => {
  root = tempDir();
  gitRoot = join(root, 'remote');
  makeRemote(gitRoot, 'acme/widgets', BASE);
  git = createGit({ cacheDir: join(root, 'cache'), gitBaseUrl: pathToFileURL(gitRoot).href });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('applyPatch', () => {
  it('stages a clean patch and lists the paths it changed', async () => {
    const { path } = await worktree();
    const result = await git.applyPatch(path, CHANGE);
    expect(result.outcome).toBe('clean');
    expect(result.conflictedPaths).toEqual([]);
    expect(result.changedPaths.sort()).toEqual(['f.txt', 'g.txt']);
    expect(sh(path, 'diff', '--cached', '--name-only').trim().split('\n').sort()).toEqual(['f.txt', 'g.txt']);
    expect(readFileSync(join(path, 'f.txt'), 'utf8')).toBe('a\nB\nc\n');
  });

  it('keeps conflict markers and lists conflicted paths when the base moved', async () => {
    makeRemote(gitRoot, 'acme/moved', BASE);
    makeRemote(gitRoot, 'acme/moved', { 'f.txt': 'a\nX\nc\n' });
    const { path } = await worktree('acme/moved');
    const result = await git.applyPatch(path, CHANGE);
    expect(result.outcome).toBe('conflicts');
    expect(result.conflictedPaths).toEqual(['f.txt']);
    expect(result.output).toMatch(/with conflicts/);
    expect(result.conflicts).toHaveLength(1);
    expect(result.conflicts[0]!.content).toMatch(/^<<<<<<< ours\nX\n=======\nB\n>>>>>>> theirs$/m);
    expect(result.changedPaths.sort()).toEqual(['f.txt', 'g.txt']);
    expect(sh(path, 'ls-files', '-u')).toMatch(/\tf\.txt/);
  });

  it('reports a patch that cannot apply as failed and leaves the worktree untouched', async () => {
    const { path } = await worktree();
    // A diff made against content this repository never had: no blob for a 3-way merge, no matching context.
    const foreign = makeDiff({ 'f.txt': 'p\nq\nr\n' }, { 'f.txt': 'p\nQ\nr\n', 'h.txt': 'h\n' });
    const result = await git.applyPatch(path, foreign);
    expect(result.outcome).toBe('failed');
    expect(result.output).toMatch(/patch failed: f\.txt:1/);
    expect(result.changedPaths).toEqual([]);
    expect(sh(path, 'status', '--porcelain')).toBe('');
  });

  it('starts again from HEAD when applied a second time (a repeated step)', async () => {
    const { path } = await worktree();
    expect((await git.applyPatch(path, CHANGE)).outcome).toBe('clean');
    expect((await git.applyPatch(path, CHANGE)).outcome).toBe('clean');
  });

  describe('refuses unsafe patches before writing anything', () => {
    const outside = () => join(root, 'outside');
    const cases: [string, string, string][] = [
      [
        'a path inside .git',
        '.git/config',
        'diff --git a/.git/config b/.git/config\n--- a/.git/config\n+++ b/.git/config\n@@ -1 +1,2 @@\n [core]\n+\thooksPath = /tmp\n',
      ],
      [
        '.git in any segment, any case',
        'sub/.GIT/hooks/pre-commit',
        'diff --git a/sub/.GIT/hooks/pre-commit b/sub/.GIT/hooks/pre-commit\nnew file mode 100755\n--- /dev/null\n+++ b/sub/.GIT/hooks/pre-commit\n@@ -0,0 +1 @@\n+#!/bin/sh\n',
      ],
      ['an absolute path', '/etc/passwd', '--- /etc/passwd\n+++ /etc/passwd\n@@ -1 +1,2 @@\n root:x:0:0:root:/root:/bin/bash\n+evil\n'],
      [
        'a .. segment',
        '../x',
        'diff --git a/../x b/../x\nnew file mode 100644\n--- /dev/null\n+++ b/../x\n@@ -0,0 +1 @@\n+escaped\n',
      ],
      [
        'a .. segment hidden in a quoted name',
        '../y',
        'diff --git "a/\\056\\056/y" "b/\\056\\056/y"\nnew file mode 100644\n--- /dev/null\n+++ "b/\\056\\056/y"\n@@ -0,0 +1 @@\n+escaped\n',
      ],
      ['a new symbolic link', 'link', makeDiff({}, { link: { link: '/etc' } })],
    ];
    for (const [label, path, diff] of cases) {
      it(label, async () => {
        const tree = await worktree();
        const before = readFileSync(join(tree.path, '.git'), 'utf8');
        const error = await failure(git.applyPatch(tree.path, diff));
        expect(error.kind).toBe(FailureKind.PERMANENT);
        expect(error.code).toBe(FailureCode.PATCH_UNSAFE);
        expect(error.message).toContain(`"${path}"`);
        expect(sh(tree.path, 'status', '--porcelain')).toBe('');
        expect(readFileSync(join(tree.path, '.git'), 'utf8')).toBe(before);
        expect(existsSync(join(root, 'runs', 'x'))).toBe(false);
        expect(existsSync(outside())).toBe(false);
      });
    }

    it('a path through an existing link that points outside the tree', async () => {
      makeRemote(gitRoot, 'acme/linked', { ...BASE, out: { link: outside() } });
      const tree = await worktree('acme/linked');
      const diff = makeDiff({}, { 'out/planted.txt': 'planted\n' });
      const error = await failure(git.applyPatch(tree.path, diff));
      expect(error.code).toBe(FailureCode.PATCH_UNSAFE);
      expect(error.message).toContain('"out/planted.txt"');
      expect(error.message).toMatch(/symbolic link/);
      expect(existsSync(outside())).toBe(false);
    });

    it('but not a removed line that merely looks like a header', async () => {
      const tree = await worktree();
      const diff = makeDiff({ 'notes.txt': 'keep\n-- ../x\n' }, { 'notes.txt': 'keep\n' });
      expect(diff).toMatch(/^--- \.\.\/x$/m);
      const result = await git.applyPatch(tree.path, diff);
      expect(result.outcome).toBe('failed'); // notes.txt is not in this repository: git, not the safety check, says no
    });
  });

  it('applies binary changes and commits their exact bytes', async () => {
    const old = randomBytes(4096);
    const next = Buffer.concat([old.subarray(0, 2048), randomBytes(512), Buffer.from([0, 0, 0])]);
    const added = randomBytes(10_000);
    makeRemote(gitRoot, 'acme/binary', { 'blob.bin': old });
    const diff = makeDiff({ 'blob.bin': old }, { 'blob.bin': next, 'img/new.png': added });
    expect(diff).toContain('GIT binary patch');
    const tree = await worktree('acme/binary');
    const result = await git.applyPatch(tree.path, diff);
    expect(result.outcome).toBe('clean');
    expect(result.changedPaths.sort()).toEqual(['blob.bin', 'img/new.png']);
    const sha = await git.commit(tree.path, { message: 'binary', author: AUTHOR, date: '2024-05-01T00:00:00Z' });
    expect(readFileSync(join(tree.path, 'blob.bin')).equals(next)).toBe(true);
    const committed = sh(tree.path, 'cat-file', '-s', `${sha}:img/new.png`).trim();
    expect(Number(committed)).toBe(added.length);
  });

  it('applies a 5 MB diff', async () => {
    const line = 'x'.repeat(63) + '\n';
    const big = line.repeat(Math.ceil((5 * 1024 * 1024) / line.length));
    const diff = makeDiff(BASE, { ...BASE, 'data/big.txt': big });
    expect(diff.length).toBeGreaterThan(5 * 1024 * 1024);
    const tree = await worktree();
    const started = performance.now();
    const result = await git.applyPatch(tree.path, diff);
    const elapsed = performance.now() - started;
    expect(result.outcome).toBe('clean');
    expect(readFileSync(join(tree.path, 'data/big.txt'), 'utf8')).toBe(big);
    console.info(`applyPatch of a ${(diff.length / 1048576).toFixed(1)} MB diff took ${elapsed.toFixed(0)} ms`);
  });
});

describe('commit', () => {
  it('gives the same sha for the same patch, base, identity and date, on another worker', async () => {
    const input = { message: 'Phase 2: widgets\n\nspec-chain run 42', author: AUTHOR, date: new Date('2024-05-01T12:00:00Z') };
    const first = await worktree();
    await git.applyPatch(first.path, CHANGE);
    const a = await git.commit(first.path, input);

    // Another worker: its own cache and worktree.
    const other = createGit({ cacheDir: join(root, 'cache-2'), gitBaseUrl: pathToFileURL(gitRoot).href });
    const second = await other.prepareWorktree({ repository: 'acme/widgets', baseSha: first.baseSha, dir: join(root, 'runs', 'other') });
    await other.applyPatch(second.path, CHANGE);
    const b = await other.commit(second.path, input);
    expect(b).toBe(a);
    expect(sh(first.path, 'rev-parse', 'HEAD').trim()).toBe(a);
    expect(sh(first.path, 'log', '-1', '--format=%an <%ae> %at|%cn <%ce> %ct', a).trim()).toBe(
      'Spec Chain <spec-chain@example.invalid> 1714564800|Spec Chain <spec-chain@example.invalid> 1714564800',
    );

    const third = await worktree();
    await git.applyPatch(third.path, CHANGE);
    expect(await git.commit(third.path, { ...input, date: new Date('2024-05-01T12:00:01Z') })).not.toBe(a);
  });

  it('refuses to commit unresolved conflicts or an empty change', async () => {
    const conflicted = await worktree('acme/moved');
    await git.applyPatch(conflicted.path, CHANGE);
    expect((await failure(git.commit(conflicted.path, { message: 'm', author: AUTHOR, date: new Date() }))).code).toBe(
      FailureCode.MERGE_CONFLICT,
    );
    const untouched = await worktree();
    expect((await failure(git.commit(untouched.path, { message: 'm', author: AUTHOR, date: new Date() }))).code).toBe(
      FailureCode.NO_DIFF,
    );
  });
});
