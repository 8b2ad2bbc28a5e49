import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../src/db/embedded.js';
import { PROJECT_ROOT } from '../src/server/paths.js';

// Cold `npm start` (and `spec-chain start`) to ready: process spawned → /readyz answers 200, with the
// embedded PostgreSQL and sandbox of a data folder left by an earlier start; beside a Node process that
// only serves /readyz, started the same way in the same run.

const STARTS = 5;

async function timeToReady(command: string, args: string[], env: Record<string, string>, port: number): Promise<number> {
  const started = performance.now();
  const child = spawn(command, args, { cwd: PROJECT_ROOT, env: { ...process.env, ...env, PORT: String(port) }, detached: true, stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
      if (ok) return performance.now() - started;
      if (child.exitCode !== null) throw new Error(`${command} ${args.join(' ')} exited before it was ready`);
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    // Ctrl-C as a terminal sends it, and wait for the orderly stop before the next start.
    process.kill(-child.pid!, 'SIGINT');
    await exited;
  }
}

const BASELINE = `require('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT), '127.0.0.1'); process.on('SIGINT', () => process.exit(0));`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (n: number) => n.toFixed(0);

export async function benchStartup(): Promise<string> {
  const dataDir = join(PROJECT_ROOT, '.data', 'bench-startup');
  await rm(dataDir, { recursive: true, force: true });
  const env = { DATA_DIR: dataDir, DATABASE_URL: '', API_TOKENS: '', LOG_LEVEL: 'warn' };
  const port = await freePort();
  try {
    const first = await timeToReady('npm', ['start'], env, port);
    const rows: [string, number[]][] = [
      ['`npm start`', []],
      ['`node dist/src/cli.js start`', []],
      ['baseline: `node` serving /readyz only', []],
    ];
    for (let i = 0; i < STARTS; i++) {
      rows[0]![1].push(await timeToReady('npm', ['start'], env, port));
      rows[1]![1].push(await timeToReady(process.execPath, ['dist/src/cli.js', 'start'], env, port));
      rows[2]![1].push(await timeToReady(process.execPath, ['-e', BASELINE], env, port));
    }
    const baseline = median(rows[2]![1]);
    return [
      '## Start-up',
      '',
      `Spawn → \`/readyz\` answers 200, then Ctrl-C (SIGINT to the process group) and the orderly stop before the next start. ${STARTS} starts each, interleaved, with the data folder (embedded PostgreSQL, sandbox) from the first start; the first start, which runs initdb and creates the demo repository, took ${ms(first)} ms.`,
      '',
      '| command | median ms | slowest ms | median / baseline |',
      '| --- | ---: | ---: | ---: |',
      ...rows.map(([name, xs]) => `| ${name} | ${ms(median(xs))} | ${ms(Math.max(...xs))} | ${(median(xs) / baseline).toFixed(1)}× |`),
      '',
      'Goal (issue 16): cold `npm start` to ready ≤ 5 s with the data folder present.',
      '',
    ].join('\n');
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}
