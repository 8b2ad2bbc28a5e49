import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { createDemoRepository } from '../src/sandbox/demo-repo.js';

const exec = promisify(execFile);
const ENV = {
  PATH: process.env.PATH ?? '',
  LC_ALL: 'C',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'bench',
  GIT_AUTHOR_EMAIL: 'bench@localhost',
  GIT_COMMITTER_NAME: 'bench',
  GIT_COMMITTER_EMAIL: 'bench@localhost',
};
export const git = (args: string[], cwd: string) => exec('git', args, { cwd, env: ENV, maxBuffer: 256 << 20, encoding: 'utf8' });

/** The large repository as the emulators serve it, with a Codex environment of its own. */
export const LARGE_REPOSITORY = 'bench/large';
export const LARGE_ENVIRONMENT = { id: 'env_benchlarge0000001', label: LARGE_REPOSITORY, repository: LARGE_REPOSITORY };

/** What the emulators' process (bench/emulators.ts) reports once it serves. */
export interface EmulatorsReady {
  gitRoot: string;
  /** The service's configuration for them. */
  environment: Record<string, string>;
  codexAuthRef: string;
  githubTokenRef: string;
  codexBaseUrl: string;
}

/** The shape of the generated repository; a cached one with another shape is made again. */
export const LARGE_SHAPE = { version: 1, files: 30_000, commits: 2_000, initialBytes: 264 << 20, changedPerCommit: 3 };

/** Where generated inputs live between benchmark runs (git-ignored, like DATA_DIR). */
export function benchDataDir(): string {
  return resolve(process.env.BENCH_DATA_DIR ?? join('.data', 'bench'));
}

/**
 * A repository the size of a real product's: the demo project's files (so the same feature and the
 * same Codex diff work on it), 30,000 more files of text, 2,000 commits, over 300 MB of blobs. Made
 * once with `git fast-import` and kept under the bench data folder; returns its bare repository.
 */
export async function largeRepository(log: (line: string) => void): Promise<{ path: string; blobBytes: number; files: number; commits: number }> {
  const dir = join(benchDataDir(), 'large-repo');
  const path = join(dir, 'large.git');
  const marker = join(dir, 'shape.json');
  const known = existsSync(marker) ? JSON.parse(await readFile(marker, 'utf8')) : null;
  if (known && JSON.stringify(known.shape) === JSON.stringify(LARGE_SHAPE) && existsSync(path)) return { path, ...known.facts };

  log(`generating the large repository in ${path} (once; kept for later runs)`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const scratch = await mkdtemp(join(tmpdir(), 'spec-chain-bench-large-'));
  try {
    const demo = await createDemoRepository(join(scratch, 'git'), { owner: 'sandbox', name: 'widgets' });
    const demoFiles = await filesOf(demo.path, 'main');
    const building = join(dir, 'building.git');
    await git(['init', '-q', '--bare', '-b', 'main', building], dir);
    const facts = await fastImport(building, demoFiles);
    await rename(building, path);
    await writeFile(marker, JSON.stringify({ shape: LARGE_SHAPE, facts }, null, 2));
    log(`large repository: ${facts.files} files, ${facts.commits} commits, ${(facts.blobBytes / 2 ** 20).toFixed(0)} MB of blobs`);
    return { path, ...facts };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Every file of a commit, as bytes. */
async function filesOf(bare: string, rev: string): Promise<Map<string, Buffer>> {
  const { stdout } = await git(['ls-tree', '-r', '-z', rev], bare);
  const files = new Map<string, Buffer>();
  for (const row of stdout.split('\0').filter(Boolean)) {
    const path = row.slice(row.indexOf('\t') + 1);
    const { stdout: text } = await exec('git', ['cat-file', 'blob', `${rev}:${path}`], { cwd: bare, env: ENV, encoding: 'buffer', maxBuffer: 64 << 20 });
    files.set(path, text);
  }
  return files;
}

/** Lines of random text: incompressible enough that the blobs weigh what they say. */
function text(bytes: number): Buffer {
  const raw = randomBytes(Math.ceil((bytes * 3) / 4)).toString('base64');
  return Buffer.from(raw.replace(/(.{76})/g, '$1\n').slice(0, bytes - 1) + '\n');
}

const generatedPath = (i: number) => `lib/part-${i % 30}/group-${Math.floor(i / 30) % 40}/file-${i}.txt`;

async function fastImport(bare: string, demoFiles: Map<string, Buffer>): Promise<{ blobBytes: number; files: number; commits: number }> {
  const child = spawn('git', ['fast-import', '--quiet', '--done'], { cwd: bare, env: ENV, stdio: ['pipe', 'ignore', 'inherit'] });
  const closed = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  const write = async (chunk: string | Buffer) => {
    if (!child.stdin.write(chunk)) await new Promise((resolve) => child.stdin.once('drain', resolve));
  };
  const data = async (bytes: Buffer) => {
    await write(`data ${bytes.length}\n`);
    await write(bytes);
    await write('\n');
  };
  const { files, commits, initialBytes, changedPerCommit } = LARGE_SHAPE;
  const perFile = Math.floor(initialBytes / files);
  let blobBytes = 0;
  let when = 1_700_000_000;
  for (let c = 1; c <= commits; c++) {
    await write(`commit refs/heads/main\ncommitter bench <bench@localhost> ${when++} +0000\n`);
    await data(Buffer.from(c === 1 ? 'The widgets catalogue, and a large library\n' : `Change ${changedPerCommit} library files (${c})\n`));
    if (c === 1) {
      for (const [path, bytes] of demoFiles) {
        await write(`M 100644 inline ${path}\n`);
        await data(bytes);
        blobBytes += bytes.length;
      }
      for (let i = 0; i < files; i++) {
        const bytes = text(perFile);
        await write(`M 100644 inline ${generatedPath(i)}\n`);
        await data(bytes);
        blobBytes += bytes.length;
      }
    } else {
      for (let k = 0; k < changedPerCommit; k++) {
        const bytes = text(perFile);
        await write(`M 100644 inline ${generatedPath((c * 7919 + k * 104_729) % files)}\n`);
        await data(bytes);
        blobBytes += bytes.length;
      }
    }
    await write('\n');
  }
  await write('done\n');
  child.stdin.end();
  if ((await closed) !== 0) throw new Error('git fast-import failed while generating the large repository');
  await git(['symbolic-ref', 'HEAD', 'refs/heads/main'], bare);
  await git(['pack-refs', '--all'], bare);
  return { blobBytes, files: files + demoFiles.size, commits };
}

/**
 * `<gitRoot>/<owner>/<name>.git` serving the cached repository without copying it: its objects are an
 * alternate, its refs a copy, so what a benchmark pushes lands here and the cached one stays as made.
 */
export async function linkRepository(cached: string, gitRoot: string, owner: string, name: string): Promise<string> {
  const bare = join(gitRoot, owner, `${name}.git`);
  await mkdir(join(gitRoot, owner), { recursive: true });
  await git(['init', '-q', '--bare', '-b', 'main', bare], gitRoot);
  await writeFile(join(bare, 'objects', 'info', 'alternates'), `${join(cached, 'objects')}\n`);
  await writeFile(join(bare, 'packed-refs'), await readFile(join(cached, 'packed-refs')));
  return bare;
}

/**
 * Adds `count` feature folders (copies of `source`'s tasks.md) on a new branch `branch` from `base`,
 * in one commit made with fast-import (no clone, whatever the repository's size), so as many runs can
 * be in flight at once (one active run per feature). Returns the feature ids.
 */
export async function addFeatures(bare: string, options: { base: string; branch: string; source: string; count: number; first?: number }): Promise<string[]> {
  const { stdout: tasks } = await git(['show', `${options.base}:specs/${options.source}/tasks.md`], bare);
  const { stdout: baseSha } = await git(['rev-parse', `${options.base}^{commit}`], bare);
  const first = options.first ?? 100;
  const features = Array.from({ length: options.count }, (_, i) => `${i + first}-bench-${i + first}`);
  const body = Buffer.from(tasks);
  const message = `${options.count} features for the chain benchmark\n`;
  const parts: (string | Buffer)[] = [
    `commit refs/heads/${options.branch}\ncommitter bench <bench@localhost> ${Math.floor(Date.now() / 1000)} +0000\n`,
    `data ${Buffer.byteLength(message)}\n${message}from ${baseSha.trim()}\n`,
  ];
  for (const feature of features) parts.push(`M 100644 inline specs/${feature}/tasks.md\ndata ${body.length}\n`, body, '\n');
  parts.push('\ndone\n');
  await new Promise<void>((resolve, reject) => {
    const child = spawn('git', ['fast-import', '--quiet', '--done'], { cwd: bare, env: ENV, stdio: ['pipe', 'ignore', 'inherit'] });
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`git fast-import exited ${code} adding features to ${bare}`))));
    child.stdin.end(Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p))));
  });
  return features;
}
