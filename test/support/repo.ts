import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const git = (args: string[], cwd?: string) =>
  exec('git', args, { cwd, env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } });

/** Pushes a branch to a bare repository of the sandbox: `base` plus the given files. */
export async function pushBranchWith(bare: string, branch: string, files: Record<string, string>, base = 'main'): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'spec-chain-branch-'));
  try {
    await git(['clone', '-q', '--branch', base, bare, work]);
    await git(['checkout', '-q', '-b', branch], work);
    for (const [path, content] of Object.entries(files)) {
      await mkdir(dirname(join(work, path)), { recursive: true });
      await writeFile(join(work, path), content);
    }
    await git(['add', '-A'], work);
    await git(['commit', '-q', '-m', `test branch ${branch}`], work);
    await git(['push', '-q', 'origin', branch], work);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The branches of a bare repository. */
export async function branchesOf(bare: string): Promise<string[]> {
  const { stdout } = await git(['for-each-ref', '--format=%(refname:short)', 'refs/heads'], bare);
  return stdout.split('\n').filter(Boolean);
}

export async function fileAt(bare: string, ref: string, path: string): Promise<string> {
  const { stdout } = await git(['show', `${ref}:${path}`], bare);
  return stdout;
}

/**
 * Adds Spec Kit features `<prefix>-1` … `<prefix>-<count>` (numbered from `first`) to `main` of a bare
 * repository in one commit: one phase with one open task each, so many runs can work at once.
 */
export async function addFeatures(bare: string, count: number, first = 100): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `${first + i}-load-${i + 1}`);
  const work = await mkdtemp(join(tmpdir(), 'spec-chain-features-'));
  try {
    await git(['clone', '-q', '--branch', 'main', bare, work]);
    for (const id of ids) {
      await mkdir(join(work, 'specs', id), { recursive: true });
      await writeFile(join(work, 'specs', id, 'spec.md'), `# Feature Specification: ${id}\n`);
      await writeFile(join(work, 'specs', id, 'tasks.md'), `# Tasks: ${id}\n\n## Phase 1: Setup\n\n- [ ] T001 Create src/${id}.js\n`);
    }
    await git(['add', '-A'], work);
    await git(['commit', '-q', '-m', `Specify ${count} features`], work);
    await git(['push', '-q', 'origin', 'main'], work);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return ids;
}

/** Pushes one commit with the given files on top of an existing branch, as a reviewer's push would. */
export async function pushCommitTo(bare: string, branch: string, files: Record<string, string>, message = 'a reviewer\'s change'): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), 'spec-chain-push-'));
  try {
    await git(['clone', '-q', '--branch', branch, bare, work]);
    for (const [path, content] of Object.entries(files)) {
      await mkdir(dirname(join(work, path)), { recursive: true });
      await writeFile(join(work, path), content);
    }
    await git(['add', '-A'], work);
    await git(['commit', '-q', '-m', message], work);
    await git(['push', '-q', 'origin', branch], work);
    return (await git(['rev-parse', 'HEAD'], work)).stdout.trim();
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The commit a branch (or any revision) of a bare repository names. */
export async function revParse(bare: string, rev: string): Promise<string> {
  return (await git(['rev-parse', '--verify', `${rev}^{commit}`], bare)).stdout.trim();
}

/** The parents of a commit. */
export async function parentsOf(bare: string, sha: string): Promise<string[]> {
  return (await git(['rev-list', '--parents', '-n', '1', sha], bare)).stdout.trim().split(' ').slice(1);
}
