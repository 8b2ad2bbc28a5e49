import { FailureCode } from '../../interfaces.js';
import { permanent } from '../errors.js';
import { readPatchFiles, stripPrefix, type PatchName } from './patch-paths.js';
import type { CommitTree } from './tree.js';

/**
 * Refuses, before anything is written, a patch that could reach outside the repository or into git's
 * own files: a path inside `.git`, an absolute path, a `..` segment, a new or retargeted symbolic
 * link, or a path that passes through a link of the base commit (mode 120000) pointing outside it.
 * `gitPaths` are the paths `git apply --numstat` read from the same patch: checking git's own reading
 * too means a header this parser misreads cannot slip through.
 */
export async function assertPatchSafe(diff: string, base: CommitTree, gitPaths: readonly string[]): Promise<void> {
  const repositoryPaths: string[] = [...gitPaths];
  for (const file of readPatchFiles(diff)) {
    for (const name of file.names) {
      // Name the path as the repository sees it (`../x`, not `a/../x`), unless only the raw form is wrong.
      const path = name.form === 'prefixed' ? stripPrefix(name.raw) : name.raw;
      const problem = nameProblem({ raw: path, form: name.form === 'loose' ? 'loose' : 'plain' });
      if (problem) throw unsafe(path, problem);
      const rawProblem = nameProblem(name);
      if (rawProblem) throw unsafe(name.raw, rawProblem);
      if (name.form !== 'loose') repositoryPaths.push(path);
    }
    if (file.symlink) {
      const last = file.names[file.names.length - 1]!;
      throw unsafe(last.form === 'prefixed' ? stripPrefix(last.raw) : last.raw, 'it creates or retargets a symbolic link');
    }
  }
  for (const path of new Set(repositoryPaths)) {
    const problem = nameProblem({ raw: path, form: 'plain' });
    if (problem) throw unsafe(path, problem);
    // Where the path leads in the base commit, links followed: a link on the way must stay inside it.
    if ((await base.resolve(path)).status === 'outside') throw unsafe(path, 'it passes through a symbolic link that points outside the repository');
  }
}

function unsafe(path: string, reason: string) {
  return permanent(FailureCode.PATCH_UNSAFE, `The patch was refused because of "${path}": ${reason}. Nothing was applied.`, {
    details: { path, reason },
  });
}

function nameProblem(name: PatchName): string | undefined {
  if (name.form !== 'loose' && name.raw.startsWith('/')) return 'it is an absolute path';
  const segments = name.raw.split('/');
  if (segments.includes('..')) return 'a ".." segment leaves the repository';
  // Case and trailing dots or spaces are ignored by some file systems: `.GIT` and `.git.` are `.git` there.
  if (segments.some((s) => s.replace(/[. ]+$/, '').toLowerCase() === '.git')) return 'it is inside .git';
  return undefined;
}
