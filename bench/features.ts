import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const IDENTITY = { GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'bench@localhost', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'bench@localhost' };
const git = (args: string[], cwd?: string) => exec('git', args, { cwd, env: { ...process.env, ...IDENTITY }, maxBuffer: 64 * 1024 * 1024 });

/**
 * Pushes `branch` to the bare repository: `base` plus `count` feature folders, each with a copy of
 * `source`'s tasks.md, so as many runs can be in flight at once (one active run per feature).
 * Returns the feature ids.
 */
export async function pushFeatures(bare: string, options: { base: string; branch: string; source: string; count: number }): Promise<string[]> {
  const { stdout: tasks } = await git(['show', `${options.base}:specs/${options.source}/tasks.md`], bare);
  const features = Array.from({ length: options.count }, (_, i) => `${i + 100}-bench-${i}`);
  const work = await mkdtemp(join(tmpdir(), 'spec-chain-bench-branch-'));
  try {
    await git(['clone', '-q', '--branch', options.base, bare, work]);
    await git(['checkout', '-q', '-b', options.branch], work);
    for (const feature of features) {
      await mkdir(join(work, 'specs', feature), { recursive: true });
      await writeFile(join(work, 'specs', feature, 'tasks.md'), tasks);
    }
    await git(['add', '-A'], work);
    await git(['commit', '-q', '-m', `${options.count} features for the chain benchmark`], work);
    await git(['push', '-q', 'origin', options.branch], work);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return features;
}
