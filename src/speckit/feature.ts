import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { discover } from './next-phase.js';
import { SpecErrorCode, type Discovery, type SpecError } from './types.js';

// The only part of src/speckit that reads files: finding a feature's folder in a checkout.

/** A Spec Kit feature folder found in a checkout. Paths named `relative…` use `/` and start at the checkout. */
export interface Feature {
  /** The folder name, e.g. `001-celery-chain-workflow`. */
  id: string;
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
 * Finds `specs/<feature>/tasks.md` in a checkout. With no feature id, `.specify/feature.json` names the
 * feature (its `feature_directory`, or a similar key naming the folder or the id).
 */
export async function resolveFeature(checkoutDir: string, featureId?: string): Promise<FeatureResolution> {
  const root = resolve(checkoutDir);
  const fail = (code: SpecErrorCode, file: string, message: string): FeatureResolution => ({
    ok: false,
    error: { code, file, line: null, message },
  });
  let dir: string;
  let source: Feature['source'];
  if (featureId !== undefined && featureId !== '') {
    if (!isValidFeatureId(featureId)) {
      return fail(SpecErrorCode.FEATURE_ID_INVALID, `specs/${featureId}`, invalidIdMessage(featureId, 'The feature id'));
    }
    dir = join(root, 'specs', featureId);
    source = 'argument';
  } else {
    const named = await readFeatureJson(root);
    if ('error' in named) return fail(SpecErrorCode.FEATURE_UNKNOWN, FEATURE_JSON, named.error);
    dir = named.dir;
    source = 'feature.json';
    const rel = relative(root, dir);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
      return fail(SpecErrorCode.FEATURE_ID_INVALID, FEATURE_JSON, `${FEATURE_JSON} names ${named.value}, which is not a folder inside the repository.`);
    }
    if (!isValidFeatureId(basename(dir))) {
      return fail(SpecErrorCode.FEATURE_ID_INVALID, FEATURE_JSON, invalidIdMessage(basename(dir), `The folder named by ${FEATURE_JSON}`));
    }
  }
  const id = basename(dir);
  const relativeDir = toPosix(relative(root, dir));
  const relativeTasksPath = `${relativeDir}/tasks.md`;
  if (!(await isKind(dir, 'directory'))) {
    return fail(SpecErrorCode.FEATURE_MISSING, relativeDir, `${relativeDir} does not exist in the repository.${await listFeatures(root)}`);
  }
  const tasksPath = join(dir, 'tasks.md');
  if (!(await isKind(tasksPath, 'file'))) {
    return fail(
      SpecErrorCode.FILE_MISSING,
      relativeTasksPath,
      `${relativeTasksPath} does not exist. Generate it with /speckit.tasks on the base branch, then push it.`,
    );
  }
  if (!(await staysInside(root, tasksPath))) {
    return fail(SpecErrorCode.FILE_UNREADABLE, relativeTasksPath, `${relativeTasksPath} is a link to a file outside the repository; it is not read.`);
  }
  const [hasSpec, hasPlan] = await Promise.all([isKind(join(dir, 'spec.md'), 'file'), isKind(join(dir, 'plan.md'), 'file')]);
  return { ok: true, feature: { id, dir, relativeDir, tasksPath, relativeTasksPath, hasSpec, hasPlan, source } };
}

/** Reads a tasks file as bytes (decoding is the parser's job, so a bad byte is reported with its line). */
export async function readTasksFile(path: string, file = path): Promise<{ bytes: Uint8Array } | { error: SpecError }> {
  try {
    return { bytes: await readFile(path) };
  } catch (cause) {
    const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
    return {
      error: {
        code: missing ? SpecErrorCode.FILE_MISSING : SpecErrorCode.FILE_UNREADABLE,
        file,
        line: null,
        message: missing
          ? `${file} does not exist. Generate it with /speckit.tasks, or name the tasks.md or feature folder to read.`
          : `${file} cannot be read (${(cause as NodeJS.ErrnoException).code ?? 'error'}). Check that it is a readable file.`,
      },
    };
  }
}

/** Resolves the feature, reads its tasks.md and answers which phase is next; every failure is an INVALID answer. */
export async function discoverFeature(checkoutDir: string, featureId?: string): Promise<{ feature: Feature | null; discovery: Discovery }> {
  const resolution = await resolveFeature(checkoutDir, featureId);
  if (!resolution.ok) {
    return { feature: null, discovery: { status: 'INVALID', file: resolution.error.file, errors: [resolution.error] } };
  }
  const { feature } = resolution;
  const read = await readTasksFile(feature.tasksPath, feature.relativeTasksPath);
  if ('error' in read) return { feature, discovery: { status: 'INVALID', file: feature.relativeTasksPath, errors: [read.error] } };
  return { feature, discovery: discover(read.bytes, feature.relativeTasksPath) };
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

/** The folder `.specify/feature.json` names: a path (relative to the checkout, or absolute) or a bare id. */
async function readFeatureJson(root: string): Promise<{ dir: string; value: string } | { error: string }> {
  let text: string;
  try {
    text = await readFile(join(root, FEATURE_JSON), 'utf8');
  } catch {
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
  const isPath = value.includes('/') || value.includes('\\');
  return { dir: isPath ? resolve(root, value) : join(root, 'specs', value), value };
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

async function isKind(path: string, kind: 'file' | 'directory'): Promise<boolean> {
  try {
    const info = await stat(path);
    return kind === 'file' ? info.isFile() : info.isDirectory();
  } catch {
    return false;
  }
}

/** Whether a path, links followed, stays inside the checkout (a repository may hold links to anywhere). */
async function staysInside(root: string, path: string): Promise<boolean> {
  const [realRoot, realPath] = await Promise.all([realpath(root), realpath(path)]);
  return realPath.startsWith(realRoot + sep);
}

/** The feature folders that do exist, to put in a message (at most ten). */
async function listFeatures(root: string): Promise<string> {
  try {
    const names = (await readdir(join(root, 'specs'), { withFileTypes: true }))
      .filter((entry) => entry.isDirectory() && isValidFeatureId(entry.name))
      .map((entry) => entry.name)
      .sort();
    if (names.length === 0) return ' The repository has no feature folder under specs/.';
    return ` Features present: ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', ...' : ''}.`;
  } catch {
    return ' The repository has no specs/ folder.';
  }
}

function toPosix(path: string): string {
  return sep === '/' ? path : path.split(sep).join('/');
}
