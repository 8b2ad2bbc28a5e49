import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FailureCode, FailureKind } from '../../src/interfaces.js';
import { createGit, gitProcessesStarted, type CommitInput, type Git } from '../../src/providers/git/index.js';
import { makeDiff, makeRemote, sh, tempDir } from './git-fixture.js';
import { failure } from './provider-error.js';

const BASE = { 'f.txt': 'a\nb\nc\n', 'docs/readme.md': '# widgets\n' };
const CHANGE = makeDiff(BASE, { 'f.txt': 'a\nB\nc\n', 'g.txt': 'new\n' });
const AUTHOR = { name: 'Spec Chain', email: 'spec-chain@example.invalid' };
const COMMIT: CommitInput = { message: 'Phase 2: widgets\n\nspec-chain run 42', author: AUTHOR, date: new Date('2024-05-01T12:00:00Z') };

let root: string;
let gitRoot: string;
let git: Git;

const cacheOf = (repository: string, cache = 'cache') => join(root, cache, `${repository}.git`);
/** What the cache holds at `<sha>:<path>` (read with plain git: no fetch can happen). */
const show = (repository: string, sha: string, path: string) => sh(cacheOf(repository), 'cat-file', 'blob', `${sha}:${path}`);
const objectCount = (repository: string) => sh(cacheOf(repository), 'count-objects', '-v');
/** Blobs of the history the cache does not hold: a partial clone fetches only those it needs. */
const missingBlobs = (repository: string) =>
  sh(cacheOf(repository), 'rev-list', '--objects', '--all', '--missing=print')
    .split('\n')
    .filter((l) => l.startsWith('?')).length;

async function apply(diff: string, repository = 'acme/widgets', commit = COMMIT) {
  const baseSha = await git.fetchBase({ repository, baseBranch: 'main' });
  return { baseSha, result: await git.applyPatchToCommit({ repository, baseSha, diff, commit }) };
}

beforeAll(() => {
  root = tempDir();
  gitRoot = join(root, 'remote');
  makeRemote(gitRoot, 'acme/widgets', BASE);
  git = createGit({ cacheDir: join(root, 'cache'), gitBaseUrl: pathToFileURL(gitRoot).href });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
// Whatever happened in a test, no step's scratch folder (temporary index) is left behind.
afterEach(() => {
  const scratch = join(root, 'cache', '.scratch');
  expect(existsSync(scratch) ? readdirSync(scratch) : []).toEqual([]);
});

describe('applyPatchToCommit', () => {
  it('commits a clean patch on the base and lists the paths it changed, with no checkout', async () => {
    const { baseSha, result } = await apply(CHANGE);
    expect(result).toMatchObject({ outcome: 'committed', conflictedPaths: [], conflicts: [] });
    expect(result.changedPaths.sort()).toEqual(['f.txt', 'g.txt']);
    const sha = result.sha!;
    expect(sh(cacheOf('acme/widgets'), 'rev-parse', `${sha}^`).trim()).toBe(baseSha);
    expect(sh(cacheOf('acme/widgets'), 'diff-tree', '-r', '--name-only', '--no-commit-id', baseSha, sha).trim().split('\n').sort()).toEqual(['f.txt', 'g.txt']);
    expect(show('acme/widgets', sha, 'f.txt')).toBe('a\nB\nc\n');
    // Untouched files keep their blob, which the cache need not even hold.
    const id = (rev: string) => sh(cacheOf('acme/widgets'), 'rev-parse', rev).trim();
    expect(id(`${sha}:docs/readme.md`)).toBe(id(`${baseSha}:docs/readme.md`));
    // The cache is bare: there is no working tree anywhere, and no index of its own.
    expect(sh(cacheOf('acme/widgets'), 'rev-parse', '--is-bare-repository').trim()).toBe('true');
    expect(existsSync(join(cacheOf('acme/widgets'), 'index'))).toBe(false);
  });

  it('fetches only the blobs the patch touches (a partial clone), in one request', async () => {
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`lib/m${i}.txt`, `module ${i}\n`.repeat(20)]));
    makeRemote(gitRoot, 'acme/many', { ...BASE, ...many });
    const baseSha = await git.fetchBase({ repository: 'acme/many', baseBranch: 'main' });
    expect(missingBlobs('acme/many')).toBe(42);
    const started = gitProcessesStarted();
    const result = await git.applyPatchToCommit({ repository: 'acme/many', baseSha, diff: CHANGE, commit: COMMIT });
    expect(result.outcome).toBe('committed');
    // numstat, one fetch of the touched blob, read-tree, apply, write-tree, commit-tree.
    expect(gitProcessesStarted() - started).toBe(6);
    expect(missingBlobs('acme/many')).toBe(41);
    const id = (rev: string) => sh(cacheOf('acme/many'), 'rev-parse', rev).trim();
    expect(id(`${result.sha}:lib/m7.txt`)).toBe(id(`${baseSha}:lib/m7.txt`));
  });

  it('reports conflicts with conflict-marked contents when the base moved, and commits nothing', async () => {
    makeRemote(gitRoot, 'acme/moved', BASE);
    makeRemote(gitRoot, 'acme/moved', { 'f.txt': 'a\nX\nc\n' });
    const before = objectCount('acme/widgets');
    const full = makeDiff(BASE, { 'f.txt': 'a\nB\nc\n', 'g.txt': 'new\n' }, [], { fullIndex: true });
    expect(full).toMatch(/^index [0-9a-f]{40}\.\.[0-9a-f]{40} /m);
    const { result } = await apply(full, 'acme/moved');
    expect(result.outcome).toBe('conflicts');
    expect(result.sha).toBeNull();
    expect(result.conflictedPaths).toEqual(['f.txt']);
    expect(result.output).toMatch(/with conflicts/);
    expect(result.conflicts).toHaveLength(1);
    expect(result.conflicts[0]!.path).toBe('f.txt');
    expect(result.conflicts[0]!.content).toMatch(/^<<<<<<< ours\nX\n=======\nB\n>>>>>>> theirs$/m);
    expect(result.changedPaths.sort()).toEqual(['f.txt', 'g.txt']);
    expect(objectCount('acme/widgets')).toBe(before);
  });

  it('finds the preimage of an abbreviated index line in the history, so a moved base still merges 3-way', async () => {
    makeRemote(gitRoot, 'acme/short', BASE);
    makeRemote(gitRoot, 'acme/short', { 'f.txt': 'a\nX\nc\n' });
    expect(CHANGE).toMatch(/^index [0-9a-f]{7}\.\.[0-9a-f]{7} /m);
    const { result } = await apply(CHANGE, 'acme/short');
    expect(result.outcome).toBe('conflicts');
    expect(result.conflictedPaths).toEqual(['f.txt']);
    expect(result.conflicts[0]!.content).toContain('<<<<<<< ours\nX\n=======\nB\n>>>>>>> theirs');
  });

  it('reports a patch that cannot apply as failed', async () => {
    // A diff made against content this repository never had: no blob for a 3-way merge, no matching context.
    const foreign = makeDiff({ 'f.txt': 'p\nq\nr\n' }, { 'f.txt': 'p\nQ\nr\n', 'h.txt': 'h\n' });
    const { result } = await apply(foreign);
    expect(result).toMatchObject({ outcome: 'failed', sha: null, changedPaths: [], conflictedPaths: [] });
    expect(result.output).toMatch(/patch failed: f\.txt:1/);
  });

  it('gives the same commit when applied a second time (a repeated step)', async () => {
    const first = await apply(CHANGE);
    const second = await apply(CHANGE);
    expect(second.result.outcome).toBe('committed');
    expect(second.result.sha).toBe(first.result.sha);
  });

  it('says NO_DIFF when the base already holds the change', async () => {
    makeRemote(gitRoot, 'acme/done', BASE);
    makeRemote(gitRoot, 'acme/done', { 'f.txt': 'a\nB\nc\n' });
    const e = await failure(apply(makeDiff(BASE, { 'f.txt': 'a\nB\nc\n' }), 'acme/done'));
    expect([e.kind, e.code]).toEqual([FailureKind.PERMANENT, FailureCode.NO_DIFF]);
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
        const baseSha = await git.fetchBase({ repository: 'acme/widgets', baseBranch: 'main' });
        const before = objectCount('acme/widgets');
        const error = await failure(git.applyPatchToCommit({ repository: 'acme/widgets', baseSha, diff, commit: COMMIT }));
        expect(error.kind).toBe(FailureKind.PERMANENT);
        expect(error.code).toBe(FailureCode.PATCH_UNSAFE);
        expect(error.message).toContain(`"${path}"`);
        expect(objectCount('acme/widgets')).toBe(before);
        expect(existsSync(join(root, 'cache', 'x'))).toBe(false);
        expect(existsSync(outside())).toBe(false);
      });
    }

    it('a path through a link of the base commit that points outside it (absolute, or climbing out)', async () => {
      makeRemote(gitRoot, 'acme/linked', { ...BASE, out: { link: outside() }, 'docs/up': { link: '../..' }, 'docs/hop': { link: 'up' } });
      for (const path of ['out/planted.txt', 'docs/up/planted.txt', 'docs/hop/planted.txt']) {
        const diff = makeDiff({}, { [path]: 'planted\n' });
        const error = await failure(apply(diff, 'acme/linked'));
        expect(error.code).toBe(FailureCode.PATCH_UNSAFE);
        expect(error.message).toContain(`"${path}"`);
        expect(error.message).toMatch(/symbolic link/);
      }
      expect(existsSync(outside())).toBe(false);
    });

    it('but not a link that stays inside the tree, nor a removed line that merely looks like a header', async () => {
      makeRemote(gitRoot, 'acme/inside', { ...BASE, 'docs/self': { link: '../docs' } });
      // git itself refuses to write through the link; the safety check lets git be the one to say no.
      const through = makeDiff({}, { 'docs/self/new.txt': 'new\n' });
      const { result: refused } = await apply(through, 'acme/inside');
      expect(refused.outcome).toBe('failed');
      expect(refused.output).toMatch(/beyond a symbolic link/);

      const diff = makeDiff({ 'notes.txt': 'keep\n-- ../x\n' }, { 'notes.txt': 'keep\n' });
      expect(diff).toMatch(/^--- \.\.\/x$/m);
      const { result } = await apply(diff);
      expect(result.outcome).toBe('failed'); // notes.txt is not in this repository: git, not the safety check, says no
    });
  });

  it('applies binary changes, renames, deletions and mode changes, and commits their exact bytes', async () => {
    const old = randomBytes(4096);
    const next = Buffer.concat([old.subarray(0, 2048), randomBytes(512), Buffer.from([0, 0, 0])]);
    const added = randomBytes(10_000);
    const files = { 'blob.bin': old, 'old-name.txt': 'moved\n'.repeat(10), 'gone.txt': 'bye\n', 'run.sh': '#!/bin/sh\n' };
    makeRemote(gitRoot, 'acme/binary', files);
    const diff =
      makeDiff(files, { 'blob.bin': next, 'img/new.png': added }, ['gone.txt']) +
      'diff --git a/old-name.txt b/new-name.txt\nsimilarity index 100%\nrename from old-name.txt\nrename to new-name.txt\n' +
      'diff --git a/run.sh b/run.sh\nold mode 100644\nnew mode 100755\n';
    expect(diff).toContain('GIT binary patch');
    const { result } = await apply(diff, 'acme/binary');
    expect(result.outcome).toBe('committed');
    expect(result.changedPaths.sort()).toEqual(['blob.bin', 'gone.txt', 'img/new.png', 'new-name.txt', 'old-name.txt', 'run.sh']);
    const sha = result.sha!;
    const bytes = (path: string) => execFileSync('git', ['cat-file', 'blob', `${sha}:${path}`], { cwd: cacheOf('acme/binary') });
    expect(bytes('blob.bin').equals(next)).toBe(true);
    expect(bytes('img/new.png').equals(added)).toBe(true);
    const listing = sh(cacheOf('acme/binary'), 'ls-tree', '-r', sha);
    expect(listing).toMatch(/^100755 blob \S+\trun\.sh$/m);
    expect(listing).toMatch(/\tnew-name\.txt$/m);
    expect(listing).not.toMatch(/\told-name\.txt$|\tgone\.txt$/m);
  });

  it('applies a 5 MB diff', async () => {
    const line = 'x'.repeat(63) + '\n';
    const big = line.repeat(Math.ceil((5 * 1024 * 1024) / line.length));
    const diff = makeDiff(BASE, { ...BASE, 'data/big.txt': big });
    expect(diff.length).toBeGreaterThan(5 * 1024 * 1024);
    const started = performance.now();
    const { result } = await apply(diff);
    const elapsed = performance.now() - started;
    expect(result.outcome).toBe('committed');
    expect(show('acme/widgets', result.sha!, 'data/big.txt')).toBe(big);
    console.info(`applyPatchToCommit of a ${(diff.length / 1048576).toFixed(1)} MB diff took ${elapsed.toFixed(0)} ms`);
  });

  it('gives the same sha for the same patch, base, identity and date, on another worker', async () => {
    const first = await apply(CHANGE);
    const a = first.result.sha!;

    // Another worker: its own cache, starting from the recorded base commit.
    const other = createGit({ cacheDir: join(root, 'cache-2'), gitBaseUrl: pathToFileURL(gitRoot).href });
    expect(await other.hasCommit('acme/widgets', a)).toBe(false);
    await other.fetchBase({ repository: 'acme/widgets', baseSha: first.baseSha });
    const second = await other.applyPatchToCommit({ repository: 'acme/widgets', baseSha: first.baseSha, diff: CHANGE, commit: COMMIT });
    expect(second.sha).toBe(a);
    expect(await other.hasCommit('acme/widgets', a)).toBe(true);
    expect(sh(cacheOf('acme/widgets'), 'log', '-1', '--format=%an <%ae> %at|%cn <%ce> %ct', a).trim()).toBe(
      'Spec Chain <spec-chain@example.invalid> 1714564800|Spec Chain <spec-chain@example.invalid> 1714564800',
    );

    const later = await apply(CHANGE, 'acme/widgets', { ...COMMIT, date: new Date('2024-05-01T12:00:01Z') });
    expect(later.result.sha).not.toBe(a);
  });
});
