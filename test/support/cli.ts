import { execFile } from 'node:child_process';
import { PROJECT_ROOT } from '../../src/server/paths.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `npx spec-chain <args>` run from the project as a user types it: the installed executable (dist/, built
 * by npm install), in a child process, with its exit code and both streams.
 */
export function spawnSpecChain(args: string[], options: { env?: Record<string, string | undefined>; cwd?: string; input?: string } = {}): Promise<CliResult> {
  // A variable given as undefined is removed, not passed as the text "undefined".
  const env = Object.fromEntries(Object.entries({ ...process.env, ...options.env }).filter(([, v]) => v !== undefined)) as Record<string, string>;
  return new Promise((resolve, reject) => {
    const child = execFile(
      'npx',
      ['--no-install', 'spec-chain', ...args],
      { cwd: options.cwd ?? PROJECT_ROOT, env, maxBuffer: 64 << 20, timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        if (code === null) return reject(error);
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(options.input ?? '');
  });
}
