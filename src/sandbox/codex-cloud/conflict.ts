import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withCheckout } from './checkout.js';
import { git } from './git.js';
import { completed, failed, type TurnResult, type TurnWork } from './turn.js';

/** The first run of lines, in a text file, that the branch changed since `base`. */
async function linesChangedSince(dir: string, base: string): Promise<{ path: string; start: number; count: number } | null> {
  const { stdout } = await git(['diff', '-U0', '--no-renames', '--diff-filter=M', base, 'HEAD'], { cwd: dir });
  let path: string | null = null;
  for (const line of stdout.split('\n')) {
    if (line.startsWith('diff --git ') || line.startsWith('Binary files ')) path = null;
    else if (line.startsWith('--- a/')) path = line.slice(6);
    const hunk = /^@@ -(\d+)(?:,(\d+))? \+/.exec(line);
    if (hunk && path !== null) {
      const count = hunk[2] === undefined ? 1 : Number(hunk[2]);
      if (count > 0) return { path, start: Number(hunk[1]), count };
    }
  }
  return null;
}

/**
 * The `conflict` outcome: a diff made against an older commit of the branch, rewriting lines the
 * branch has changed since. Its `index` line names the older blob, which the repository has, so
 * `git apply --3way` on the branch merges it and stops with real conflicts instead of failing.
 */
export function conflictingDiff(work: TurnWork): Promise<TurnResult> {
  return withCheckout(work, async (dir) => {
    const history = (await git(['rev-list', '--first-parent', 'HEAD'], { cwd: dir })).stdout.trim().split('\n').slice(1);
    for (const base of history) {
      const target = await linesChangedSince(dir, base);
      if (!target) continue;
      const lines = (await git(['show', `${base}:${target.path}`], { cwd: dir })).stdout.split('\n');
      for (let i = target.start - 1; i < target.start - 1 + target.count; i += 1) lines[i] = `${lines[i]} (reworded by Codex)`;
      await git(['checkout', '-q', '--detach', base], { cwd: dir });
      await writeFile(join(dir, target.path), lines.join('\n'));
      const diff = (await git(['diff', '--full-index'], { cwd: dir })).stdout;
      return completed(diff, `Reworded ${target.path} (lines ${target.start}-${target.start + target.count - 1}).`);
    }
    return failed(
      'conflict_unavailable',
      `Branch ${work.branch} of ${work.repository} changed no line of a text file since an older commit, so no conflicting diff exists.`,
    );
  });
}
