import { spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { PROJECT_ROOT } from '../../src/server/paths.js';
import { makeDiff, makeRemote, tempDir } from './git-fixture.js';

const GIT = join(PROJECT_ROOT, 'dist', 'src', 'providers', 'git', 'index.js');
const BASE = { 'f.txt': 'a\nb\nc\n', 'specs/001-widgets/tasks.md': '## Phase 1: Setup\n\n- [ ] T001 set up\n' };
const RUNS_PER_PROCESS = 8;

/**
 * One worker process's share of runs on a repository: each fetches the base, reads the tasks file and
 * commits the patch, all at once, on whatever cache the folder holds (none yet, the first time).
 */
const WORKER = `
import { readFileSync } from 'node:fs';
const [gitModule, cacheDir, gitBaseUrl, diffFile, runs] = process.argv.slice(1);
const { createGit } = await import(gitModule);
const git = createGit({ cacheDir, gitBaseUrl });
const diff = readFileSync(diffFile, 'utf8');
const results = await Promise.all(Array.from({ length: Number(runs) }, async (_, i) => {
  const baseSha = await git.fetchBase({ repository: 'acme/shared', baseBranch: 'main' });
  const tree = await git.readTree({ repository: 'acme/shared', sha: baseSha });
  const tasks = Buffer.from(await tree.read('specs/001-widgets/tasks.md')).toString('utf8');
  const commit = { message: 'run ' + (i % 2), author: { name: 'Spec Chain', email: 'spec-chain@example.invalid' }, date: '2024-06-01T10:00:00Z' };
  const applied = await git.applyPatchToCommit({ repository: 'acme/shared', baseSha, diff, commit });
  return { baseSha, tasks, outcome: applied.outcome, sha: applied.sha };
}));
process.stdout.write(JSON.stringify(results));
`;

let root: string;
beforeAll(() => {
  if (!existsSync(GIT)) throw new Error(`${GIT} is missing: run npm run build first`);
  root = tempDir();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function runWorker(cacheDir: string, gitBaseUrl: string, diffFile: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', WORKER, GIT, cacheDir, gitBaseUrl, diffFile, String(RUNS_PER_PROCESS)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

test(`two processes, ${RUNS_PER_PROCESS} concurrent runs each, on one fresh cache: every run gets the base, its files and the same commits`, async () => {
  const gitRoot = join(root, 'remote');
  const baseSha = makeRemote(gitRoot, 'acme/shared', BASE);
  const diffFile = join(root, 'change.diff');
  writeFileSync(diffFile, makeDiff(BASE, { 'f.txt': 'a\nB\nc\n', 'new.txt': 'new\n' }));
  const cacheDir = join(root, 'cache');
  expect(existsSync(cacheDir)).toBe(false);

  const answers = await Promise.all([1, 2].map(() => runWorker(cacheDir, pathToFileURL(gitRoot).href, diffFile)));
  for (const answer of answers) expect({ code: answer.code, err: answer.err }).toEqual({ code: 0, err: '' });
  const results = answers.flatMap((a) => JSON.parse(a.out) as { baseSha: string; tasks: string; outcome: string; sha: string }[]);
  expect(results).toHaveLength(2 * RUNS_PER_PROCESS);
  for (const r of results) expect(r).toMatchObject({ baseSha, tasks: BASE['specs/001-widgets/tasks.md'], outcome: 'committed' });
  // Same inputs, same commit, whichever process made it: two messages, two shas.
  expect(new Set(results.map((r) => r.sha)).size).toBe(2);
  // One cache, no leftovers of the race or of the runs.
  expect(readdirSync(join(cacheDir, 'acme'))).toEqual(['shared.git']);
  expect(readdirSync(join(cacheDir, '.scratch'))).toEqual([]);
});
