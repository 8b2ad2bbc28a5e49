import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FailureCode } from '../../interfaces.js';
import { permanent } from '../errors.js';
import type { GitAuth } from './auth.js';
import { fetchBase, openCache, type CachedRepository, type GitContext } from './cache.js';
import { lastLines } from './classify.js';
import { readPatchFiles, stripPrefix } from './patch-paths.js';
import { assertPatchSafe } from './patch-safety.js';
import { withScratch } from './scratch.js';
import { CommitTree } from './tree.js';

export interface CommitInput {
  message: string;
  /** Also the committer. */
  author: { name: string; email: string };
  /** Author and committer date. */
  date: Date | string;
}

export interface ApplyInput {
  repository: string;
  /** The commit the patch is applied to (fetched first if this machine lacks it). */
  baseSha: string;
  diff: string;
  commit: CommitInput;
  /**
   * The new commit's parent when it is not the base: a revision of a pull request applies the whole
   * change to the pull request's base and commits the resulting tree on top of the pull request's head.
   */
  parentSha?: string;
  auth?: GitAuth;
  signal?: AbortSignal;
}

export interface ApplyResult {
  /** committed: `sha` is the new commit; conflicts: nothing committed, see `conflicts`; failed: nothing changed. */
  outcome: 'committed' | 'conflicts' | 'failed';
  sha: string | null;
  /** What `git apply` printed (stdout and stderr, in order). */
  output: string;
  conflictedPaths: string[];
  /** Each conflicted file with conflict markers, as `git merge-file` writes it. */
  conflicts: { path: string; content: string }[];
  /** Paths the patch changes (both sides of a rename); none when it failed. */
  changedPaths: string[];
}

/**
 * Applies a diff the way the Codex CLI does (`git apply --3way`), but to a temporary index of the base
 * commit instead of a checkout, and commits the result with `commit-tree`: nothing but the tree, the
 * parent, the identity, the date and the message goes into the commit, so the same patch on the same
 * base gives the same sha on any worker. A diff that could write outside the tree or into `.git` is
 * refused (PERMANENT PATCH_UNSAFE) before anything is written; one that changes nothing is NO_DIFF.
 *
 * Only the blobs the patch touches are fetched (one request, before git needs them); the index is the
 * one file this makes, and it is removed before this returns.
 */
export async function applyPatchToCommit(ctx: GitContext, input: ApplyInput): Promise<ApplyResult> {
  const { repository, baseSha, signal } = input;
  await fetchBase(ctx, { repository, baseSha, auth: input.auth, signal });
  const repo = await openCache(ctx, repository, input.auth, signal);
  const baseTree = await repo.objects.commitTree(baseSha);
  if (!baseTree) throw permanent(FailureCode.REPOSITORY_UNAVAILABLE, `${repository} has no commit ${baseSha}.`);
  const base = new CommitTree(repo, baseTree, baseSha, signal);
  // git reads the last line only when it ends with a newline.
  const patch = input.diff.endsWith('\n') ? input.diff : `${input.diff}\n`;

  const numstat = await repo.git(['apply', '--numstat', '-z', '-'], { input: patch });
  const gitPaths = numstat.code === 0 ? numstatPaths(numstat.stdout) : [];
  await assertPatchSafe(patch, base, gitPaths);
  const paths = touchedPaths(patch, gitPaths);

  return withScratch(ctx.cacheDir, async (dir) => {
    await prefetch(repo, base, patch, paths);
    const env = { GIT_INDEX_FILE: join(dir, 'index') };
    await must(repo, ['read-tree', baseSha], env, 'Reading the base commit into a temporary index');
    const applied = await repo.git(['apply', '--cached', '--3way', '-'], { input: patch, env });
    if (applied.code !== 0) {
      const unmerged = await unmergedStages(repo, env);
      if (!unmerged.size) return { outcome: 'failed', sha: null, output: applied.output, conflictedPaths: [], conflicts: [], changedPaths: [] };
      const conflicts = [];
      for (const [path, stages] of unmerged) conflicts.push({ path, content: await conflictMarked(repo, dir, stages) });
      return { outcome: 'conflicts', sha: null, output: applied.output, conflictedPaths: [...unmerged.keys()], conflicts, changedPaths: paths };
    }
    // Blobs the patch did not touch are not here, and need not be: their ids are in the index already.
    const tree = (await must(repo, ['write-tree', '--missing-ok'], env, 'Writing the tree')).trim();
    if (tree === baseTree) throw permanent(FailureCode.NO_DIFF, 'The patch changes nothing on the base commit; there is nothing to commit.');
    const parent = input.parentSha ?? baseSha;
    if (parent !== baseSha) {
      await fetchBase(ctx, { repository, baseSha: parent, auth: input.auth, signal });
      if ((await repo.objects.commitTree(parent)) === tree) {
        throw permanent(FailureCode.NO_DIFF, 'The change is what the pull request already holds; there is nothing to add to it.');
      }
    }
    const sha = await commitTree(repo, tree, parent, input.commit);
    return { outcome: 'committed', sha, output: applied.output, conflictedPaths: [], conflicts: [], changedPaths: paths };
  });
}

async function must(repo: CachedRepository, args: string[], env: Record<string, string>, what: string): Promise<string> {
  const result = await repo.git(args, { env });
  if (result.code !== 0) throw permanent(FailureCode.INTERNAL, `${what} failed: ${lastLines(result.output)}`, { details: { gitOutput: result.output } });
  return result.stdout;
}

async function commitTree(repo: CachedRepository, tree: string, parent: string, input: CommitInput): Promise<string> {
  const stamp = gitDate(input.date);
  const { name, email } = input.author;
  const env = {
    GIT_AUTHOR_NAME: name,
    GIT_AUTHOR_EMAIL: email,
    GIT_AUTHOR_DATE: stamp,
    GIT_COMMITTER_NAME: name,
    GIT_COMMITTER_EMAIL: email,
    GIT_COMMITTER_DATE: stamp,
  };
  const message = input.message.endsWith('\n') ? input.message : `${input.message}\n`;
  const made = await repo.git(['commit-tree', tree, '-p', parent, '--no-gpg-sign'], { env, input: message });
  if (made.code !== 0) throw permanent(FailureCode.INTERNAL, `Creating the commit failed: ${lastLines(made.output)}`, { details: { gitOutput: made.output } });
  return made.stdout.trim();
}

/** git's raw date form (`@<seconds> +0000`): no time zone or locale of the worker can change it. */
function gitDate(date: Date | string): string {
  const ms = (date instanceof Date ? date : new Date(date)).getTime();
  if (Number.isNaN(ms)) throw new TypeError(`"${String(date)}" is not a date.`);
  return `@${Math.floor(ms / 1000)} +0000`;
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
  return [...new Set(paths)];
}

/** Every path the patch names (git's numstat gives only the new name of a rename; the headers give both). */
function touchedPaths(patch: string, gitPaths: string[]): string[] {
  const named = readPatchFiles(patch).flatMap((file) =>
    file.names.filter((n) => n.form !== 'loose').map((n) => (n.form === 'prefixed' ? stripPrefix(n.raw) : n.raw)),
  );
  return [...new Set([...gitPaths, ...named])];
}

const INDEX_LINE = /^index ([0-9a-f]{4,64})\.\.[0-9a-f]{4,64}(?: \d{6})?$/;

/**
 * Fetches, in one request, the blobs `git apply --3way` will read: the base's version of every path the
 * patch touches, and each preimage its `index` lines name (the base the patch was made on, which a
 * 3-way merge needs when the branch has moved since). A preimage named by an abbreviated id is looked up
 * in the path's history, which the cache holds as trees.
 */
async function prefetch(repo: CachedRepository, base: CommitTree, patch: string, paths: string[]): Promise<void> {
  const wanted = new Set<string>();
  const current = new Map<string, string>();
  for (const path of paths) {
    const at = await base.resolve(path, false);
    if (at.status === 'found' && at.entry.mode !== '040000' && at.entry.mode !== '160000') {
      wanted.add(at.entry.oid);
      current.set(path, at.entry.oid);
    }
  }
  const abbreviated = new Map<string, string>();
  for (const { path, preimage } of preimages(patch)) {
    if (/^0+$/.test(preimage)) continue;
    if (preimage.length >= 40) wanted.add(preimage);
    else if (!current.get(path)?.startsWith(preimage)) abbreviated.set(path, preimage);
  }
  if (abbreviated.size) {
    const history = await repo.git(['--literal-pathspecs', 'log', '--format=', '--raw', '-z', '--no-abbrev', '--no-renames', base.commit, '--', ...abbreviated.keys()]);
    const ids = history.code === 0 ? history.stdout.match(/[0-9a-f]{40,64}/g) ?? [] : [];
    for (const prefix of abbreviated.values()) for (const id of ids) if (id.startsWith(prefix)) wanted.add(id);
  }
  await repo.ensureObjects(wanted);
}

/** Each file's `index <pre>..<post>` preimage id, with the path it applies to. */
function preimages(patch: string): { path: string; preimage: string }[] {
  const out: { path: string; preimage: string }[] = [];
  const files = readPatchFiles(patch);
  let file = -1;
  for (const line of patch.split('\n')) {
    if (line.startsWith('diff --git ')) file++;
    const index = INDEX_LINE.exec(line);
    const names = files[file]?.names;
    if (index && names?.length) {
      const first = names[0]!;
      out.push({ path: first.form === 'prefixed' ? stripPrefix(first.raw) : first.raw, preimage: index[1]! });
    }
  }
  return out;
}

interface Stages {
  /** Stage 1: the patch's preimage; 2: the base commit's version ("ours"); 3: the patched version ("theirs"). */
  [stage: number]: string | undefined;
}

/** The unmerged entries `apply --3way` left in the index: per path, its stage blobs. */
async function unmergedStages(repo: CachedRepository, env: Record<string, string>): Promise<Map<string, Stages>> {
  const listed = await must(repo, ['ls-files', '--unmerged', '-z'], env, 'Listing conflicts');
  const byPath = new Map<string, Stages>();
  // Rows are `mode oid stage\tpath`, one per stage.
  for (const row of listed.split('\0').filter(Boolean)) {
    const tab = row.indexOf('\t');
    const [, oid, stage] = row.slice(0, tab).split(' ');
    const path = row.slice(tab + 1);
    const stages = byPath.get(path) ?? {};
    stages[Number(stage)] = oid;
    byPath.set(path, stages);
  }
  return byPath;
}

/** `git merge-file -p` on the three stages: the conflicted file as a checkout would have shown it. */
async function conflictMarked(repo: CachedRepository, dir: string, stages: Stages): Promise<string> {
  const files = [];
  for (const [stage, name] of [
    [2, 'ours'],
    [1, 'base'],
    [3, 'theirs'],
  ] as const) {
    const oid = stages[stage];
    const file = join(dir, name);
    await writeFile(file, oid ? await repo.readBlob(oid) : '');
    files.push(file);
  }
  const merged = await repo.git(['merge-file', '-p', '-L', 'ours', '-L', 'base', '-L', 'theirs', ...files]);
  // A positive exit counts the conflicts; a negative one (255) is an error, such as a binary file.
  return merged.code === 255 ? '' : merged.stdout;
}
