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
