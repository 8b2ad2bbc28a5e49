import { lstat, readlink, realpath } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { FailureCode } from '../../interfaces.js';
import { permanent } from '../errors.js';
import { readPatchFiles, stripPrefix, type PatchName } from './patch-paths.js';

/**
 * Refuses, before anything is written, a patch that could reach outside the worktree or into git's
 * own files: a path inside `.git`, an absolute path, a `..` segment, a new or retargeted symbolic
 * link, or a path that passes through an existing link pointing outside the tree.
 * `gitPaths` are the paths `git apply --numstat` read from the same patch: checking git's own reading
 * too means a header this parser misreads cannot slip through.
 */
export async function assertPatchSafe(diff: string, worktreePath: string, gitPaths: readonly string[]): Promise<void> {
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
  const root = await realpath(worktreePath);
  for (const path of new Set(repositoryPaths)) {
    const problem = nameProblem({ raw: path, form: 'plain' });
    if (problem) throw unsafe(path, problem);
    if (await passesLinkOutside(root, path)) throw unsafe(path, 'it passes through a symbolic link that points outside the repository');
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

/** Walks the path one component at a time; a link on the way must resolve inside `root`. */
async function passesLinkOutside(root: string, path: string): Promise<boolean> {
  let current = root;
  for (const part of path.split('/').filter((p) => p !== '' && p !== '.')) {
    current = join(current, part);
    let stats;
    try {
      stats = await lstat(current);
    } catch {
      return false; // nothing exists from here on, so no link can be crossed
    }
    if (!stats.isSymbolicLink()) continue;
    const target = resolve(await realpath(dirname(current)), await readlink(current));
    const real = await realpath(target).catch(() => target);
    if (real !== root && !real.startsWith(root + sep)) return true;
  }
  return false;
}
