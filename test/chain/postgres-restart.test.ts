import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.js';
import { createLogger } from '../../src/log.js';
import { expectGapless, startWorld, type World } from '../support/world.js';

// This test restarts its database, so it runs on one it started itself.
let pg: EmbeddedDatabase | undefined;
let world: World | undefined;
const dir = join(process.cwd(), '.data', `restart-${process.pid}`);
const log = createLogger('silent');

afterAll(async () => {
  await world?.close().catch(() => {});
  await pg?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('PostgreSQL restarted mid-run: the run completes with a gapless event log', async () => {
  pg = await startEmbeddedPostgres({ dir, log, persistent: true });
  const port = Number(new URL(pg.url).port);
  world = await startWorld({ databaseUrl: pg.url });
  world.sandbox.codex.script({ kind: 'implement', pendingPolls: 3 });
  const { run: started } = await world.start();
  await world.waitFor(started.id, (r) => r.steps.some((s: any) => s.step === 'APPLY' && s.state === 'WAITING'));

  // Stop it (data kept), leave it down a moment, start it again on the same port and data.
  const stopped = pg;
  pg = undefined;
  await stopped.stop();
  await new Promise((r) => setTimeout(r, 1500));
  pg = await startEmbeddedPostgres({ dir, log, persistent: true, port });

  const run = await world.waitFor(started.id, undefined, 90_000);
  expect(run.failure).toBeNull();
  expect(run.status).toBe('SUCCEEDED');
  expect(world.codexTasksCreated()).toBe(1);
  expectGapless(await world.events(started.id));
}, 150_000);
