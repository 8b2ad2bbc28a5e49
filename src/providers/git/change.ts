import { FailureCode } from '../../interfaces.js';
import { permanent } from '../errors.js';
import type { GitAuth } from './auth.js';
import { openCache, type GitContext } from './cache.js';
import { lastLines } from './classify.js';

/** A commit's change to its parent as whole files: what GitHub's createCommitOnBranch takes. */
export interface CommitChange {
  parentSha: string;
  /** Files written (added or changed), each with its whole new contents. */
  additions: { path: string; contents: Buffer }[];
  deletions: string[];
  /** What whole files cannot express, with why; additions and deletions hold the rest. */
  unsupported: { path: string; why: string }[];
}

/**
 * The most file bytes one createCommitOnBranch carries here (base64 makes them a third larger): a limit
 * chosen by this service, well below the request sizes GitHub's API takes, so a large change goes by git.
 */
export const API_COMMIT_MAX_BYTES = 25 * 1024 * 1024;

const FILE = '100644';

/**
 * Reads what `sha` changes against its first parent (`git diff-tree -r --no-renames`): a rename is a
 * deletion plus an addition, as the API has it. Anything but plain files (mode 100644) on both sides
 * is unsupported: the API writes every file as 100644, so executables, symlinks, submodules and mode
 * changes would come out different from the tree the patch made.
 */
export async function readCommitChange(ctx: GitContext, input: { repository: string; sha: string; auth?: GitAuth; signal?: AbortSignal }): Promise<CommitChange> {
  const repo = await openCache(ctx, input.repository, input.auth, input.signal);
  const parent = await repo.git(['rev-parse', '--verify', `${input.sha}^1`]);
  if (parent.code !== 0) throw permanent(FailureCode.INTERNAL, `Commit ${input.sha} has no parent in this machine's cache: ${lastLines(parent.output)}`);
  const parentSha = parent.stdout.trim();
  const raw = await repo.git(['diff-tree', '-r', '-z', '--no-renames', '--no-commit-id', '--full-index', parentSha, input.sha]);
  if (raw.code !== 0) throw permanent(FailureCode.INTERNAL, `Reading the change of ${input.sha} failed: ${lastLines(raw.output)}`);
  const change: CommitChange = { parentSha, additions: [], deletions: [], unsupported: [] };
  const parts = raw.stdout.split('\0');
  let bytes = 0;
  for (let i = 0; i + 1 < parts.length; i += 2) {
    // `:<old mode> <new mode> <old id> <new id> <status>` then the path.
    const [oldMode, newMode, , newOid, status] = parts[i]!.slice(1).split(' ');
    const path = parts[i + 1]!;
    const why = unsupportedWhy(oldMode!, newMode!, status!);
    if (why) {
      change.unsupported.push({ path, why });
      continue;
    }
    if (status === 'D') {
      change.deletions.push(path);
      continue;
    }
    const contents = await repo.readBlob(newOid!, input.signal);
    bytes += contents.length;
    change.additions.push({ path, contents });
  }
  if (bytes > API_COMMIT_MAX_BYTES) {
    const largest = [...change.additions].sort((a, b) => b.contents.length - a.contents.length).slice(0, 5);
    for (const file of largest) change.unsupported.push({ path: file.path, why: `${Math.ceil(file.contents.length / 1024)} KiB of a ${Math.ceil(bytes / 1024 / 1024)} MiB change (over ${API_COMMIT_MAX_BYTES / 1024 / 1024} MiB)` });
  }
  return change;
}

function unsupportedWhy(oldMode: string, newMode: string, status: string): string | null {
  const kind = (mode: string) => (mode === '120000' ? 'a symlink' : mode === '160000' ? 'a submodule' : mode === '100755' ? 'an executable file' : `mode ${mode}`);
  const absent = '000000';
  if (status === 'D') return oldMode === '160000' ? 'removes a submodule' : null;
  if (oldMode !== absent && oldMode !== newMode) return `mode change ${oldMode} → ${newMode}`;
  if (newMode !== FILE) return `is ${kind(newMode)}`;
  return null;
}
