import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { git } from './git.js';
import { failed, type TurnResult, type TurnWork } from './turn.js';

/** The convention the sandbox emulators share: repository `owner/name` is the bare repo `${gitRoot}/owner/name.git`. */
export function repositoryPath(gitRoot: string, repository: string): string {
  const [owner, name] = repository.split('/');
  return join(gitRoot, owner!, `${name}.git`);
}

/**
 * Gives `work` a throwaway clone of the task's repository at the task's branch, as a Codex container
 * starts from one, and removes it afterwards. A branch that is not there fails the turn.
 */
export async function withCheckout(task: TurnWork, work: (dir: string) => Promise<TurnResult>): Promise<TurnResult> {
  const dir = await mkdtemp(join(tmpdir(), 'codex-emulator-'));
  try {
    const clone = await git(['clone', '-q', '--branch', task.branch, repositoryPath(task.gitRoot, task.repository), dir], {
      allowFailure: true,
    });
    if (clone.code !== 0) {
      return failed('branch_not_found', `Could not check out branch ${task.branch} of ${task.repository}: ${clone.stderr.trim()}`);
    }
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
