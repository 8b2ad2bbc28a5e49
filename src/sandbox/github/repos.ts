import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { GitHubError } from './errors.js';

/** The emulator's own git, started directly: it is GitHub's side, not the service's git work. */
function runGit(args: string[], cwd: string, extra: Record<string, string> = {}): Promise<{ code: number; stdout: string }> {
  const env = { PATH: process.env.PATH ?? '', LC_ALL: 'C', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0', ...extra };
  return new Promise((resolve) => {
    execFile('git', args, { cwd, env, encoding: 'utf8', maxBuffer: 16 << 20 }, (error, stdout) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout });
    });
  });
}

/** The emulator's git with bytes on stdin. */
function runGitWithInput(args: string[], cwd: string, input: string | Buffer, extra: Record<string, string> = {}): Promise<{ code: number; stdout: string }> {
  const env = { PATH: process.env.PATH ?? '', LC_ALL: 'C', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0', ...extra };
  return new Promise((resolve) => {
    const child = spawn('git', args, { cwd, env, stdio: ['pipe', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.on('error', () => resolve({ code: 1, stdout }));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout }));
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

/**
 * The emulator's repositories are the bare repositories `<gitRoot>/<owner>/<name>.git`: refs and
 * commits are read from and written to them with the real git, so what git pushes is what GraphQL sees.
 */
export class BareRepository {
  readonly path: string;

  constructor(
    gitRoot: string,
    readonly owner: string,
    readonly name: string,
  ) {
    this.path = join(gitRoot, owner, `${name}.git`);
  }

  get nameWithOwner(): string {
    return `${this.owner}/${this.name}`;
  }

  exists(): boolean {
    return existsSync(join(this.path, 'HEAD')) && existsSync(join(this.path, 'objects'));
  }

  private async git(args: string[], env?: Record<string, string>): Promise<{ code: number; stdout: string }> {
    return runGit(args, this.path, env);
  }

  /** `refs/heads/x`, `refs/tags/x` or a short name (tried as a branch, then as a tag) → the ref and its commit. */
  async readRef(qualifiedName: string): Promise<{ name: string; oid: string } | null> {
    const candidates = qualifiedName.startsWith('refs/') ? [qualifiedName] : [`refs/heads/${qualifiedName}`, `refs/tags/${qualifiedName}`];
    for (const name of candidates) {
      const { code, stdout } = await this.git(['rev-parse', '--verify', '--quiet', `${name}^{commit}`]);
      if (code === 0) return { name, oid: stdout.trim() };
    }
    return null;
  }

  /** The branch HEAD names, when it exists. */
  async defaultBranch(): Promise<string | null> {
    const { code, stdout } = await this.git(['symbolic-ref', '--quiet', 'HEAD']);
    if (code !== 0) return null;
    return (await this.readRef(stdout.trim())) ? stdout.trim() : null;
  }

  async isCommit(oid: string): Promise<boolean> {
    if (!/^[0-9a-f]{40}$/.test(oid)) return false;
    return (await this.git(['cat-file', '-e', `${oid}^{commit}`])).code === 0;
  }

  async isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    return (await this.git(['merge-base', '--is-ancestor', ancestor, descendant])).code === 0;
  }

  /** Commits on `head` that `base` does not have. */
  async commitsAhead(base: string, head: string): Promise<number> {
    const { stdout } = await this.git(['rev-list', '--count', `${base}..${head}`]);
    return Number(stdout.trim()) || 0;
  }

  async commitInfo(oid: string): Promise<{ message: string; committedDate: string; authoredDate: string }> {
    const { stdout } = await this.git(['show', '-s', '--format=%cI%x00%aI%x00%B', oid]);
    const [committedDate = '', authoredDate = '', message = ''] = stdout.split('\0');
    return { message: message.replace(/\n+$/, ''), committedDate, authoredDate };
  }

  /** Compare-and-swap on a ref: `expected` null means it must not exist yet. */
  async writeRef(name: string, oid: string, expected: string | null): Promise<void> {
    const valid = await this.git(['check-ref-format', name]);
    if (valid.code !== 0 || !name.startsWith('refs/')) throw new GitHubError('UNPROCESSABLE', `Reference name "${name}" is invalid.`);
    const { code } = await this.git(['update-ref', '-m', 'github emulator', name, oid, expected ?? '0'.repeat(40)]);
    if (code !== 0) throw new GitHubError('STALE_DATA', `Reference ${name} changed while it was being updated; read it again.`);
  }

  /** Deletes a ref if it is still at `expected`. */
  async deleteRef(name: string, expected: string): Promise<void> {
    const { code } = await this.git(['update-ref', '-d', '-m', 'github emulator', name, expected]);
    if (code !== 0) throw new GitHubError('STALE_DATA', `Reference ${name} changed while it was being deleted; read it again.`);
  }

  /**
   * The merge commit GitHub's "Create a merge commit" makes: `head` merged into `base` without a
   * checkout (`git merge-tree --write-tree`), or null when the two conflict.
   */
  async mergeCommit(base: string, head: string, message: string, by: { name: string; email: string }): Promise<string | null> {
    const merged = await this.git(['merge-tree', '--write-tree', base, head]);
    if (merged.code !== 0) return null;
    const tree = merged.stdout.split('\n')[0]!.trim();
    const identity = { GIT_AUTHOR_NAME: by.name, GIT_AUTHOR_EMAIL: by.email, GIT_COMMITTER_NAME: 'GitHub', GIT_COMMITTER_EMAIL: 'noreply@github.com' };
    const commit = await this.git(['commit-tree', tree, '-p', base, '-p', head, '-m', message], identity);
    if (commit.code !== 0) throw new GitHubError('INTERNAL', 'The merge commit could not be written.');
    return commit.stdout.trim();
  }

  /**
   * What createCommitOnBranch makes: `parent`'s tree with whole files written (mode 100644, as GitHub's
   * API writes them) and paths deleted, committed on top of it; the commit id. Paths that do not exist
   * for a deletion are an error, as on GitHub.
   */
  async commitFiles(
    parent: string,
    changes: { additions: { path: string; contents: Buffer }[]; deletions: string[] },
    message: string,
    author: { name: string; email: string },
  ): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'github-emulator-index-'));
    const env = { GIT_INDEX_FILE: join(dir, 'index') };
    try {
      if ((await this.git(['read-tree', parent], env)).code !== 0) throw new GitHubError('INTERNAL', `Reading ${parent} failed.`);
      const lines: string[] = [];
      for (const path of changes.deletions) {
        if ((await this.git(['cat-file', '-e', `${parent}:${path}`])).code !== 0) throw new GitHubError('UNPROCESSABLE', `The path '${path}' does not exist, so it cannot be deleted.`);
        lines.push(`0 ${'0'.repeat(40)}\t${path}`);
      }
      for (const file of changes.additions) {
        const blob = await runGitWithInput(['hash-object', '-w', '--stdin'], this.path, file.contents);
        if (blob.code !== 0) throw new GitHubError('INTERNAL', `Writing ${file.path} failed.`);
        lines.push(`100644 ${blob.stdout.trim()}\t${file.path}`);
      }
      if ((await runGitWithInput(['update-index', '--index-info'], this.path, lines.join('\n') + '\n', env)).code !== 0) {
        throw new GitHubError('UNPROCESSABLE', 'The file changes could not be applied to the branch.');
      }
      const tree = await this.git(['write-tree'], env);
      if (tree.code !== 0) throw new GitHubError('UNPROCESSABLE', 'The file changes could not be applied to the branch.');
      const identity = { GIT_AUTHOR_NAME: author.name, GIT_AUTHOR_EMAIL: author.email, GIT_COMMITTER_NAME: 'GitHub', GIT_COMMITTER_EMAIL: 'noreply@github.com' };
      const commit = await runGitWithInput(['commit-tree', tree.stdout.trim(), '-p', parent], this.path, message, identity);
      if (commit.code !== 0) throw new GitHubError('INTERNAL', 'The commit could not be written.');
      return commit.stdout.trim();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** A commit's tree id. */
  async treeOf(oid: string): Promise<string> {
    return (await this.git(['rev-parse', `${oid}^{tree}`])).stdout.trim();
  }

  /** What a pull request changes: `git diff base...head`. */
  async diff(base: string, head: string): Promise<string> {
    const { code, stdout } = await this.git(['diff', `${base}...${head}`]);
    return code === 0 ? stdout : '(the change could not be read)';
  }
}
