import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import { discover } from './next-phase.js';
import { SpecErrorCode, type Discovery, type SpecError } from './types.js';

// The only part of src/speckit that reads files: finding a feature's folder in a repository's files,
// through a small read-only tree (a folder on disk, or a commit read by the git provider).

/**
 * The files of a repository as discovery reads them. Paths are relative, `/`-separated ('' is the
 * root); symbolic links are followed, and one that leads out of the repository reads as `outside`.
 */
export interface FileTree {
  /** What is at `path`: a file, a folder, a link out of the repository, or nothing (null). */
  kind(path: string): Promise<'file' | 'directory' | 'outside' | null>;
  /** A folder's entries. */
  list(path: string): Promise<{ name: string; kind: 'file' | 'directory' | 'other' }[]>;
  /** A file's bytes. Rejects with an `E…` code (ENOENT when missing) for what the repository holds; anything else is not the repository's fault and is passed on. */
  read(path: string): Promise<Uint8Array>;
  /** How a path is named to the caller (`Feature.dir`): a path on disk, or `<commit>:<path>`. */
  locate(path: string): string;
  /** For a folder on disk: its absolute path, which absolute paths in `.specify/feature.json` may name. */
  root?: string;
}

/** A folder on disk as a FileTree (the `spec-chain discover <path>` command reads a checkout with it). */
export function directoryTree(dir: string): FileTree {
  const root = resolve(dir);
  const full = (path: string) => join(root, ...path.split('/').filter(Boolean));
  return {
    root,
    async kind(path) {
      const info = await stat(full(path)).catch(() => null);
      if (!info) return null;
      // Links are followed, but a repository may hold links to anywhere: only what stays inside counts.
      const [realRoot, real] = await Promise.all([realpath(root), realpath(full(path))]);
      if (real !== realRoot && !real.startsWith(realRoot + sep)) return 'outside';
      return info.isDirectory() ? 'directory' : info.isFile() ? 'file' : null;
    },
    async list(path) {
      return (await readdir(full(path), { withFileTypes: true })).map((e) => ({
        name: e.name,
        kind: e.isDirectory() ? 'directory' : e.isFile() ? 'file' : 'other',
      }));
    },
    read: (path) => readFile(full(path)),
    locate: full,
  };
}

/** A Spec Kit feature folder found in a repository. Paths named `relative…` use `/` and start at the repository's root. */
export interface Feature {
  /** The folder name, e.g. `001-celery-chain-workflow`. */
  id: string;
  /** Where the folder is: on disk (an absolute path), or in a commit (`<sha>:specs/…`). */
  dir: string;
  relativeDir: string;
  tasksPath: string;
  relativeTasksPath: string;
  hasSpec: boolean;
  hasPlan: boolean;
  /** Where the id came from: the caller, or `.specify/feature.json`. */
  source: 'argument' | 'feature.json';
}

export type FeatureResolution = { ok: true; feature: Feature } | { ok: false; error: SpecError };

const FEATURE_ID = /^(?:\d{8}-\d{6}|\d{3,})-[a-z0-9]+(?:-[a-z0-9]+)*$/;
/** GitHub's limit for a branch name, which Spec Kit derives from the feature id. */
const MAX_FEATURE_ID_BYTES = 244;
const FEATURE_JSON = '.specify/feature.json';

/** `<3+ digits>-<kebab-name>` or `YYYYMMDD-HHMMSS-<kebab-name>`, at most 244 bytes, never a path. */
export function isValidFeatureId(id: string): boolean {
  return (
    FEATURE_ID.test(id) && Buffer.byteLength(id, 'utf8') <= MAX_FEATURE_ID_BYTES && !id.includes('..') && !id.includes('/')
  );
}

/**
 * Finds `specs/<feature>/tasks.md` in a repository (a checkout folder, or any FileTree). With no feature
 * id, `.specify/feature.json` names the feature (its `feature_directory`, or a similar key naming the
 * folder or the id).
 */
export async function resolveFeature(source: string | FileTree, featureId?: string): Promise<FeatureResolution> {
  const tree = typeof source === 'string' ? directoryTree(source) : source;
  const fail = (code: SpecErrorCode, file: string, message: string): FeatureResolution => ({
    ok: false,
    error: { code, file, line: null, message },
  });
  let relativeDir: string;
  let origin: Feature['source'];
  if (featureId !== undefined && featureId !== '') {
    if (!isValidFeatureId(featureId)) {
      return fail(SpecErrorCode.FEATURE_ID_INVALID, `specs/${featureId}`, invalidIdMessage(featureId, 'The feature id'));
    }
    relativeDir = `specs/${featureId}`;
    origin = 'argument';
  } else {
    const named = await readFeatureJson(tree);
    if ('error' in named) return fail(SpecErrorCode.FEATURE_UNKNOWN, FEATURE_JSON, named.error);
    origin = 'feature.json';
    if (named.dir === null) {
      return fail(SpecErrorCode.FEATURE_ID_INVALID, FEATURE_JSON, `${FEATURE_JSON} names ${named.value}, which is not a folder inside the repository.`);
    }
    relativeDir = named.dir;
    if (!isValidFeatureId(posix.basename(relativeDir))) {
      return fail(SpecErrorCode.FEATURE_ID_INVALID, FEATURE_JSON, invalidIdMessage(posix.basename(relativeDir), `The folder named by ${FEATURE_JSON}`));
    }
  }
  const id = posix.basename(relativeDir);
  const relativeTasksPath = `${relativeDir}/tasks.md`;
  if ((await tree.kind(relativeDir)) !== 'directory') {
    return fail(SpecErrorCode.FEATURE_MISSING, relativeDir, `${relativeDir} does not exist in the repository.${await listFeatures(tree)}`);
  }
  const tasks = await tree.kind(relativeTasksPath);
  if (tasks === 'outside') {
    return fail(SpecErrorCode.FILE_UNREADABLE, relativeTasksPath, `${relativeTasksPath} is a link to a file outside the repository; it is not read.`);
  }
  if (tasks !== 'file') {
    return fail(
      SpecErrorCode.FILE_MISSING,
      relativeTasksPath,
      `${relativeTasksPath} does not exist. Generate it with /speckit.tasks on the base branch, then push it.`,
    );
  }
  const [spec, plan] = await Promise.all([tree.kind(`${relativeDir}/spec.md`), tree.kind(`${relativeDir}/plan.md`)]);
  return {
    ok: true,
    feature: {
      id,
      dir: tree.locate(relativeDir),
      relativeDir,
      tasksPath: tree.locate(relativeTasksPath),
      relativeTasksPath,
      hasSpec: spec === 'file',
      hasPlan: plan === 'file',
      source: origin,
    },
  };
}

/** Reads a tasks file on disk as bytes (decoding is the parser's job, so a bad byte is reported with its line). */
export async function readTasksFile(path: string, file = path): Promise<{ bytes: Uint8Array } | { error: SpecError }> {
  return readTasks(() => readFile(path), file);
}

async function readTasks(read: () => Promise<Uint8Array>, file: string): Promise<{ bytes: Uint8Array } | { error: SpecError }> {
  try {
    return { bytes: await read() };
  } catch (cause) {
    const code = repositoryProblem(cause);
    return {
      error: {
        code: code === 'ENOENT' ? SpecErrorCode.FILE_MISSING : SpecErrorCode.FILE_UNREADABLE,
        file,
        line: null,
        message:
          code === 'ENOENT'
            ? `${file} does not exist. Generate it with /speckit.tasks, or name the tasks.md or feature folder to read.`
            : `${file} cannot be read (${code}). Check that it is a readable file.`,
      },
    };
  }
}

/**
 * The errno-style code of a read that failed because of what the repository holds (a missing file, a
 * folder, a link); any other failure (a network error while fetching a blob) is rethrown for the caller.
 */
function repositoryProblem(cause: unknown): string {
  const code = (cause as NodeJS.ErrnoException)?.code;
  if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return code;
  throw cause;
}

/** How a tasks.md's bytes become an answer: `discover` on this thread, or `readTasks` (pool.ts) in a worker with a budget. */
export type TasksReader = (bytes: Uint8Array, file: string) => Discovery | Promise<Discovery>;

/**
 * Resolves the feature, reads its tasks.md and answers which phase is next; every failure is an INVALID
 * answer. A service passes `readTasks`, so the parse runs off its event loop.
 */
export async function discoverFeature(
  source: string | FileTree,
  featureId?: string,
  read: TasksReader = discover,
): Promise<{ feature: Feature | null; discovery: Discovery }> {
  const tree = typeof source === 'string' ? directoryTree(source) : source;
  const resolution = await resolveFeature(tree, featureId);
  if (!resolution.ok) {
    return { feature: null, discovery: { status: 'INVALID', file: resolution.error.file, errors: [resolution.error] } };
  }
  const { feature } = resolution;
  const bytes = await readTasks(() => tree.read(feature.relativeTasksPath), feature.relativeTasksPath);
  if ('error' in bytes) return { feature, discovery: { status: 'INVALID', file: feature.relativeTasksPath, errors: [bytes.error] } };
  return { feature, discovery: await read(bytes.bytes, feature.relativeTasksPath) };
}

/** Keys seen naming the active feature, most specific first. */
const FEATURE_KEYS = [
  'feature_directory',
  'featureDirectory',
  'feature_dir',
  'featureDir',
  'directory',
  'dir',
  'path',
  'feature',
  'feature_id',
  'featureId',
  'id',
  'name',
  'branch',
];

/**
 * The folder `.specify/feature.json` names, relative to the repository's root: a path (relative, or
 * absolute inside a checkout on disk) or a bare id. `dir` is null when the path leaves the repository.
 */
async function readFeatureJson(tree: FileTree): Promise<{ dir: string | null; value: string } | { error: string }> {
  let text: string;
  try {
    text = Buffer.from(await tree.read(FEATURE_JSON)).toString('utf8');
  } catch (cause) {
    repositoryProblem(cause);
    return {
      error: `No feature id was given and ${FEATURE_JSON} does not exist. Name the feature (e.g. 001-my-feature) or run /speckit.specify.`,
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { error: `${FEATURE_JSON} is not valid JSON. Fix it (e.g. {"feature_directory": "specs/001-my-feature"}) or name the feature.` };
  }
  const value = pickFeature(json);
  if (value === null) {
    return { error: `${FEATURE_JSON} names no feature folder (expected e.g. {"feature_directory": "specs/001-my-feature"}).` };
  }
  if (!(value.includes('/') || value.includes('\\'))) return { dir: `specs/${value}`, value };
  let rel: string;
  if (isAbsolute(value)) {
    if (tree.root === undefined) return { dir: null, value };
    rel = relative(tree.root, value).split(sep).join('/');
  } else rel = posix.normalize(value);
  rel = rel.replace(/\/+$/, '');
  const outside = rel === '' || rel === '.' || rel === '..' || rel.startsWith('../') || posix.isAbsolute(rel);
  return { dir: outside ? null : rel, value };
}

function pickFeature(json: unknown, nested = true): string | null {
  if (typeof json === 'string') return json.trim() === '' ? null : json.trim();
  if (typeof json !== 'object' || json === null) return null;
  const record = json as Record<string, unknown>;
  for (const key of FEATURE_KEYS) {
    const value = record[key];
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
    // `{"feature": {"directory": ...}}` and the like.
    if (nested && typeof value === 'object' && value !== null) {
      const inner = pickFeature(value, false);
      if (inner !== null) return inner;
    }
  }
  return null;
}

function invalidIdMessage(id: string, what: string): string {
  return (
    `${what} "${id}" is not a Spec Kit feature id: expected <3+ digits>-<kebab-name> (e.g. 001-my-feature) ` +
    `or YYYYMMDD-HHMMSS-<kebab-name>, at most ${MAX_FEATURE_ID_BYTES} bytes.`
  );
}

/** The feature folders that do exist, to put in a message (at most ten). */
async function listFeatures(tree: FileTree): Promise<string> {
  try {
    const names = (await tree.list('specs'))
      .filter((entry) => entry.kind === 'directory' && isValidFeatureId(entry.name))
      .map((entry) => entry.name)
      .sort();
    if (names.length === 0) return ' The repository has no feature folder under specs/.';
    return ` Features present: ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', ...' : ''}.`;
  } catch (cause) {
    repositoryProblem(cause);
    return ' The repository has no specs/ folder.';
  }
}
