import { renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FailureCode } from '../../src/interfaces.js';
import { ProviderError } from '../../src/providers/errors.js';
import { createGit, gitProcessesStarted, type Git } from '../../src/providers/git/index.js';
import { discoverFeature, SpecErrorCode } from '../../src/speckit/index.js';
import { makeRemote, sh, tempDir, type Files } from './git-fixture.js';

const TASKS = '# Tasks\n\n## Phase 1: Setup\n\n- [X] T001 set up\n\n## Phase 2: Greeting\n\n- [ ] T002 greet\n';
const FILES: Files = {
  'README.md': '# widgets\n',
  'specs/001-chain/tasks.md': TASKS,
  'specs/001-chain/plan.md': '# Plan\n',
  'specs/002-empty/notes.md': 'no tasks yet\n',
  'specs/003-linked/tasks.md': { link: '../001-chain/tasks.md' },
  'specs/004-escape/tasks.md': { link: '/etc/passwd' },
  'specs/005-climb/tasks.md': { link: '../../../outside.md' },
  'src/big.txt': 'x'.repeat(100_000),
};

let root: string;
let gitRoot: string;
let git: Git;
let sha: string;

/** The commit's files as discover sees them. */
const tree = (repository = 'acme/tree', at = sha) => git.readTree({ repository, sha: at });
const missingBlobs = (repository = 'acme/tree') =>
  sh(join(root, 'cache', `${repository}.git`), 'rev-list', '--objects', '--all', '--missing=print')
    .split('\n')
    .filter((l) => l.startsWith('?')).length;

beforeAll(async () => {
  root = tempDir();
  gitRoot = join(root, 'remote');
  makeRemote(gitRoot, 'acme/tree', FILES);
  git = createGit({ cacheDir: join(root, 'cache'), gitBaseUrl: pathToFileURL(gitRoot).href });
  sha = await git.fetchBase({ repository: 'acme/tree', baseBranch: 'main' });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('discovery from a commit, without a checkout', () => {
  test('by id: the next phase, read with one fetch of the one blob it needs', async () => {
    const missing = missingBlobs();
    const started = gitProcessesStarted();
    const { feature, discovery } = await discoverFeature(await tree(), '001-chain');
    expect(gitProcessesStarted() - started).toBe(1);
    expect(missingBlobs()).toBe(missing - 1);
    expect(feature).toEqual({
      id: '001-chain',
      dir: `${sha}:specs/001-chain`,
      relativeDir: 'specs/001-chain',
      tasksPath: `${sha}:specs/001-chain/tasks.md`,
      relativeTasksPath: 'specs/001-chain/tasks.md',
      hasSpec: false,
      hasPlan: true,
      source: 'argument',
    });
    expect(discovery).toMatchObject({ status: 'PHASE', file: 'specs/001-chain/tasks.md', phase: { id: '2' } });
    // A second read of the same commit fetches nothing.
    const again = gitProcessesStarted();
    await discoverFeature(await tree(), '001-chain');
    expect(gitProcessesStarted()).toBe(again);
  });

  test('missing folder (with the features present), missing tasks.md, and links that leave the repository', async () => {
    const files = await tree();
    const absent = await discoverFeature(files, '009-absent');
    expect(absent.discovery).toMatchObject({ status: 'INVALID', errors: [{ code: SpecErrorCode.FEATURE_MISSING, file: 'specs/009-absent' }] });
    expect(absent.discovery.status === 'INVALID' && absent.discovery.errors[0]!.message).toContain(
      'Features present: 001-chain, 002-empty, 003-linked, 004-escape, 005-climb',
    );
    expect((await discoverFeature(files, '002-empty')).discovery).toMatchObject({ errors: [{ code: SpecErrorCode.FILE_MISSING, file: 'specs/002-empty/tasks.md' }] });
    for (const id of ['004-escape', '005-climb']) {
      expect((await discoverFeature(files, id)).discovery).toMatchObject({ errors: [{ code: SpecErrorCode.FILE_UNREADABLE }] });
    }
    // A link that stays inside is followed.
    expect((await discoverFeature(files, '003-linked')).discovery).toMatchObject({ status: 'PHASE', phase: { id: '2' } });
  });

  test('.specify/feature.json names the feature; a path outside the repository or an absolute one is refused', async () => {
    const at = (json: unknown) => makeRemote(gitRoot, 'acme/tree', { '.specify/feature.json': JSON.stringify(json) });
    let next = at({ feature_directory: 'specs/001-chain/' });
    await git.fetchBase({ repository: 'acme/tree', baseBranch: 'main' });
    expect((await discoverFeature(await tree('acme/tree', next))).feature).toMatchObject({ id: '001-chain', source: 'feature.json' });
    for (const bad of [{ feature_directory: '../elsewhere/001-chain' }, { feature_directory: '/abs/specs/001-chain' }]) {
      next = at(bad);
      await git.fetchBase({ repository: 'acme/tree', baseBranch: 'main' });
      expect((await discoverFeature(await tree('acme/tree', next))).discovery).toMatchObject({ errors: [{ code: SpecErrorCode.FEATURE_ID_INVALID }] });
    }
    expect((await discoverFeature(await tree())).discovery).toMatchObject({ errors: [{ code: SpecErrorCode.FEATURE_UNKNOWN }] });
  });

  test('a blob that cannot be fetched is the remote\'s failure, not an invalid feature', async () => {
    makeRemote(gitRoot, 'acme/gone', { 'specs/001-chain/tasks.md': TASKS });
    const at = await git.fetchBase({ repository: 'acme/gone', baseBranch: 'main' });
    const files = await tree('acme/gone', at);
    renameSync(join(gitRoot, 'acme', 'gone.git'), join(gitRoot, 'acme', 'moved-away.git'));
    const error = await discoverFeature(files, '001-chain').then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).code).toBe(FailureCode.REPOSITORY_UNAVAILABLE);
  });
});
