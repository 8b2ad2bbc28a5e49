import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/server/paths.js';
import { TOKENS } from './service.js';

const CLI = join(PROJECT_ROOT, 'dist', 'src', 'cli.js');

/**
 * A real `spec-chain <command>` process (the built CLI, on the Node running the tests), for what needs
 * separate processes: SIGKILL, scale-out. `npm run build` (run by npm install) must have built dist/.
 */
export function spawnCli(command: 'work' | 'serve', env: Record<string, string>): ChildProcess & { output: () => string } {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  let output = '';
  const child = spawn(process.execPath, [CLI, command], {
    env: {
      ...process.env,
      API_TOKENS: Object.entries(TOKENS).map(([role, token]) => `${role}:${token}`).join(','),
      LOG_LEVEL: 'info',
      QUEUE_MONITOR_SECONDS: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  return Object.assign(child, { output: () => output });
}

export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}
