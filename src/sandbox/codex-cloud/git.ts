import { execFile } from 'node:child_process';

export interface GitResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** A fixed identity and clock, so the sandbox's commits hash the same on every machine. */
export const SANDBOX_AUTHOR = { name: 'Spec Chain Sandbox', email: 'sandbox@spec-chain.invalid' };

/**
 * Runs the real `git` with no user or system configuration leaking in (hooks, signing, templates),
 * so the sandbox behaves the same on a developer's laptop and in CI. `date` pins author and committer
 * time for reproducible hashes. A non-zero exit throws unless `allowFailure` is set.
 */
export function git(
  args: string[],
  options: { cwd?: string; input?: string; date?: string; allowFailure?: boolean } = {},
): Promise<GitResult> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LANG: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: SANDBOX_AUTHOR.name,
    GIT_AUTHOR_EMAIL: SANDBOX_AUTHOR.email,
    GIT_COMMITTER_NAME: SANDBOX_AUTHOR.name,
    GIT_COMMITTER_EMAIL: SANDBOX_AUTHOR.email,
  };
  if (options.date) {
    env.GIT_AUTHOR_DATE = options.date;
    env.GIT_COMMITTER_DATE = options.date;
  }
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      ['-c', 'init.defaultBranch=main', '-c', 'core.hooksPath=/dev/null', '-c', 'commit.gpgsign=false', ...args],
      { cwd: options.cwd, env, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        if (code !== 0 && !options.allowFailure) {
          reject(new Error(`git ${args[0]} failed (exit ${code}): ${stderr.trim() || stdout.trim()}`));
          return;
        }
        resolve({ stdout, stderr, code });
      },
    );
    // A git that exits before reading its input closes the pipe; its exit code tells what happened.
    child.stdin?.on('error', () => undefined);
    // Close stdin either way: a git that waits for input would hang the sandbox.
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}
