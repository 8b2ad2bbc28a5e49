import type { ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, expect, test } from 'vitest';
import { freePort, startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.js';
import { createLogger } from '../../src/log.js';
import { exited, spawnCli } from '../support/processes.js';
import { expectGapless, startWorld, type World } from '../support/world.js';

// This test restarts its database, so it runs on one it started itself.
let server: EmbeddedDatabase | undefined;
let world: World | undefined;
const dir = join(process.cwd(), '.data', `restart-${process.pid}`);
const log = createLogger('silent');

const children: ChildProcess[] = [];

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(children.map(exited));
  await world?.close().catch(() => {});
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function restart(port: number): Promise<void> {
  const stopped = server!;
  server = undefined;
  await stopped.stop();
  await new Promise((r) => setTimeout(r, 1500));
  server = await startEmbeddedPostgres({ dir, log, persistent: true, port });
}

test('PostgreSQL restarted mid-run: the run completes with a gapless event log', async () => {
  server = await startEmbeddedPostgres({ dir, log, persistent: true });
  const port = Number(new URL(server!.url).port);
  world = await startWorld({ databaseUrl: server!.url });
  world.sandbox.codex.script({ kind: 'implement', pendingPolls: 3 });
  const { run: started } = await world.start();
  await world.waitFor(started.id, (r) => r.steps.some((s: any) => s.step === 'APPLY' && s.state === 'WAITING'));

  // Stop it (data kept), leave it down a moment, start it again on the same port and data.
  await restart(port);

  const run = await world.waitFor(started.id, undefined, 90_000);
  expect(run.failure).toBeNull();
  expect(run.status).toBe('SUCCEEDED');
  expect(world.codexTasksCreated()).toBe(1);
  expectGapless(await world.events(started.id));
}, 150_000);

/** Connections per application name, as the server sees them. */
async function connections(adminUrl: string): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string; n: number }>(
      "SELECT application_name AS name, count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE 'spec-chain%' GROUP BY 1",
    );
    return Object.fromEntries(rows.map((r) => [r.name, r.n]));
  } finally {
    await client.end();
  }
}

test('four PostgreSQL restarts under one serve and two work processes: one listener connection per process, and the chain still runs', async () => {
  await world?.close();
  world = undefined;
  if (server) await restart(Number(new URL(server!.url).port));
  else server = await startEmbeddedPostgres({ dir, log, persistent: true });
  const port = Number(new URL(server!.url).port);
  // A database of its own on the same server, so nothing of the first test is in the way.
  const admin = new pg.Client({ connectionString: server!.adminUrl });
  await admin.connect();
  await admin.query('CREATE DATABASE listeners');
  await admin.end();
  const url = new URL(server!.url);
  url.pathname = '/listeners';
  world = await startWorld({ databaseUrl: url.toString(), workers: false });
  const env = { ...world.env, DATABASE_URL: url.toString() };
  children.push(spawnCli('serve', { ...env, PORT: String(await freePort()) }), spawnCli('work', env), spawnCli('work', env));
  // This test process's own serve (the world) listens too: four processes, four listeners.
  const expected = 4;
  await expect.poll(async () => (await connections(server!.adminUrl))['spec-chain-listener'], { timeout: 60_000 }).toBe(expected);

  for (let i = 1; i <= 4; i++) {
    await restart(port);
    // A process that died would be one listener short: say which, with what it printed.
    for (const child of children) expect(child.exitCode, (child as ReturnType<typeof spawnCli>).output().slice(-3000)).toBeNull();
    await expect.poll(async () => (await connections(server!.adminUrl))['spec-chain-listener'], { timeout: 60_000 }).toBe(expected);
    // Settled, not still climbing: a second look a few seconds later sees the same count.
    await new Promise((r) => setTimeout(r, 3000));
    expect((await connections(server!.adminUrl))['spec-chain-listener'], `after restart ${i}`).toBe(expected);
  }

  const { run: started } = await world.start();
  const run = await world.waitFor(started.id, undefined, 90_000);
  expect(run.status).toBe('SUCCEEDED');
  expectGapless(await world.events(started.id));
}, 400_000);
