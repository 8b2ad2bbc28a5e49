import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Throwaway git repositories for the tests, made with the real git and a fixed identity and clock. */

const ENV = {
  PATH: process.env.PATH,
  HOME: tmpdir(),
  LC_ALL: 'C',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Fixture',
  GIT_AUTHOR_EMAIL: 'fixture@example.invalid',
  GIT_COMMITTER_NAME: 'Fixture',
  GIT_COMMITTER_EMAIL: 'fixture@example.invalid',
  GIT_AUTHOR_DATE: '@1700000000 +0000',
  GIT_COMMITTER_DATE: '@1700000000 +0000',
};

export function sh(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'init.defaultBranch=main', ...args], { cwd, env: ENV, encoding: 'utf8', maxBuffer: 64 << 20 });
}

export function tempDir(prefix = 'spec-chain-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** File contents; `{ link }` makes a symbolic link. */
export type Files = Record<string, string | Buffer | { link: string }>;

function writeFiles(dir: string, files: Files): void {
  for (const [path, content] of Object.entries(files)) {
    const full = join(dir, path);
    mkdirSync(dirname(full), { recursive: true });
    rmSync(full, { force: true });
    if (typeof content === 'object' && !Buffer.isBuffer(content)) symlinkSync(content.link, full);
    else writeFileSync(full, content);
  }
}

/**
 * A bare repository `<gitRoot>/<owner>/<name>.git` whose `main` holds `files`; returns main's sha.
 * Called again with more files, it adds a commit on top (a change pushed by someone else); with a new
 * `branch`, that branch starts from the default one.
 */
export function makeRemote(gitRoot: string, repository: string, files: Files, branch = 'main'): string {
  const bare = join(gitRoot, `${repository}.git`);
  const work = tempDir('spec-chain-work-');
  try {
    if (existsSync(bare) && hasBranch(bare, branch)) {
      sh(work, 'clone', '-q', '-b', branch, bare, '.');
    } else if (existsSync(bare)) {
      // A new branch starts from the default branch.
      sh(work, 'clone', '-q', bare, '.');
      sh(work, 'checkout', '-q', '-b', branch);
    } else {
      mkdirSync(bare, { recursive: true });
      sh(bare, 'init', '-q', '--bare');
      // As github.com serves them: partial clones may leave blobs out and fetch single objects later.
      sh(bare, 'config', 'uploadpack.allowFilter', 'true');
      sh(bare, 'config', 'uploadpack.allowAnySHA1InWant', 'true');
      sh(work, 'init', '-q', '-b', branch);
    }
    writeFiles(work, files);
    sh(work, 'add', '-A');
    sh(work, 'commit', '-q', '--allow-empty', '-m', 'fixture');
    sh(work, 'push', '-q', bare, `HEAD:refs/heads/${branch}`);
    return sh(work, 'rev-parse', 'HEAD').trim();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function hasBranch(bare: string, branch: string): boolean {
  try {
    sh(bare, 'rev-parse', '--verify', '-q', `refs/heads/${branch}`);
    return true;
  } catch {
    return false;
  }
}

/** The diff (`git diff --binary`, `--full-index` when asked, as Codex's conflict diffs have it) that turns `before` into `after`. */
export function makeDiff(before: Files, after: Files, removed: string[] = [], options: { fullIndex?: boolean } = {}): string {
  const work = tempDir('spec-chain-diff-');
  try {
    sh(work, 'init', '-q');
    writeFiles(work, before);
    sh(work, 'add', '-A');
    sh(work, 'commit', '-q', '--allow-empty', '-m', 'before');
    writeFiles(work, after);
    for (const path of removed) rmSync(join(work, path));
    sh(work, 'add', '-A');
    return sh(work, 'diff', '--cached', '--binary', ...(options.fullIndex ? ['--full-index'] : []), 'HEAD');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
