import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gitOrThrow, type GitContext } from './cache.js';
import { runGit, type GitRunOptions } from './exec.js';
import { assertPatchSafe } from './patch-safety.js';

export interface ApplyResult {
  /** clean: staged; conflicts: staged with conflict markers in `conflicts`; failed: nothing changed. */
  outcome: 'clean' | 'conflicts' | 'failed';
  /** What `git apply` printed (stdout and stderr, in order). */
  output: string;
  conflictedPaths: string[];
  conflicts: { path: string; content: string }[];
  /** Paths that differ from HEAD in the index afterwards (both sides of a rename). */
  changedPaths: string[];
}

/**
 * Applies a diff the way the Codex CLI does (`git apply --3way`), staging the result. The worktree is
 * first reset to its HEAD, so a repeat of the step starts from the same state. A diff that could write
 * outside the tree or into `.git` is refused (PERMANENT PATCH_UNSAFE) before anything is written.
 */
export async function applyPatch(ctx: GitContext, worktreePath: string, diff: string, signal?: AbortSignal): Promise<ApplyResult> {
  const options: GitRunOptions = { cwd: worktreePath, bin: ctx.bin, signal };
  const scratch = await mkdtemp(join(tmpdir(), 'spec-chain-patch-'));
  try {
    const file = join(scratch, 'change.patch');
    // git reads the last line only when it ends with a newline.
    await writeFile(file, diff.endsWith('\n') ? diff : `${diff}\n`);
    const numstat = await runGit(['apply', '--numstat', '-z', file], options);
    await assertPatchSafe(diff, worktreePath, numstat.code === 0 ? numstatPaths(numstat.stdout) : []);

    await resetToHead(options);
    const applied = await runGit(['apply', '--3way', '--index', file], options);
    const conflictedPaths = await unmergedPaths(options);
    const outcome = applied.code === 0 ? 'clean' : conflictedPaths.length ? 'conflicts' : 'failed';
    if (outcome === 'failed') await resetToHead(options);
    const conflicts = await Promise.all(
      conflictedPaths.map(async (path) => ({ path, content: await readFile(join(worktreePath, path), 'utf8').catch(() => '') })),
    );
    const changedPaths = outcome === 'failed' ? [] : await stagedPaths(options);
    return { outcome, output: applied.output, conflictedPaths, conflicts, changedPaths };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function resetToHead(options: GitRunOptions): Promise<void> {
  await gitOrThrow(['reset', '--quiet', '--hard', 'HEAD'], options, 'Resetting the worktree');
  await gitOrThrow(['clean', '-ffdxq'], options, 'Cleaning the worktree');
}

/** `--numstat -z` rows: `added\tdeleted\tpath\0`, or for a rename `added\tdeleted\t\0old\0new\0`. */
function numstatPaths(stdout: string): string[] {
  const parts = stdout.split('\0');
  const paths: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const row = /^(?:\d+|-)\t(?:\d+|-)\t([\s\S]*)$/.exec(parts[i]!);
    if (!row) continue;
    if (row[1]) paths.push(row[1]);
    else {
      paths.push(...parts.slice(i + 1, i + 3));
      i += 2;
    }
  }
  return paths;
}

async function unmergedPaths(options: GitRunOptions): Promise<string[]> {
  const out = await gitOrThrow(['ls-files', '--unmerged', '-z'], options, 'Listing conflicts');
  // Rows are `mode sha stage\tpath`, one per stage: keep each path once.
  const paths = out
    .split('\0')
    .filter(Boolean)
    .map((row) => row.slice(row.indexOf('\t') + 1));
  return [...new Set(paths)];
}

async function stagedPaths(options: GitRunOptions): Promise<string[]> {
  const out = await gitOrThrow(['diff', '--cached', '--name-only', '--no-renames', '-z', 'HEAD'], options, 'Listing changes');
  return out.split('\0').filter(Boolean);
}
