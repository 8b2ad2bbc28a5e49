import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort } from '../../src/db/embedded.js';
import { exited, spawnCli } from '../support/processes.js';
import { collect, wsClient } from '../support/subscriber.js';
import { startWorld, type World } from '../support/world.js';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => world?.close());

const versions = (updates: { version: number }[]) => updates.map((u) => u.version);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('runUpdated', () => {
  test('a subscriber receives every transition of a run, in order, ending with its final state', async () => {
    world.sandbox.codex.script({ kind: 'implement', pendingPolls: 2 });
    const { run } = await world.start({ featureId: await world.freshFeature() });
    const client = wsClient(world.svc.url);
    const { done } = collect(client, run.id, 0);
    const updates = await done;
    await client.dispose();
    const final = await world.run(run.id);
    expect(versions(updates)).toEqual(range(1, final.version));
    expect(updates.at(-1).run.status).toBe('SUCCEEDED');
    expect(updates.at(-1).event).toMatchObject({ step: null, from: 'RUNNING', to: 'SUCCEEDED' });
    // Every message carries the run as it was when delivered, with its steps.
    expect(updates.at(-1).run.steps.every((s: any) => s.state === 'SUCCEEDED')).toBe(true);
    // The WAITING polls are transitions too.
    expect(updates.some((u) => u.event.step === 'APPLY' && u.event.to === 'WAITING')).toBe(true);
    // The run is never "at" a step that has already succeeded.
    for (const u of updates) {
      const at = u.run.steps.find((s: any) => s.step === u.run.currentStep);
      if (at) expect(at.state, `version ${u.version}: at ${u.run.currentStep}`).not.toBe('SUCCEEDED');
    }
  });

  test('the server completes the subscription after the run\'s final transition, live or replayed', async () => {
    const { run } = await world.start({ featureId: await world.freshFeature() });
    const client = wsClient(world.svc.url);
    // Never stop on our side: only the server's `complete` can end these.
    const live = await collect(client, run.id, 0, () => false).done;
    const final = await world.run(run.id);
    expect(versions(live)).toEqual(range(1, final.version));
    expect(live.at(-1).event).toMatchObject({ step: null, to: 'SUCCEEDED' });
    const replayed = await collect(client, run.id, 3, () => false).done;
    expect(versions(replayed)).toEqual(range(4, final.version));
    await client.dispose();
  });

  test('afterVersion in the middle of a finished run returns exactly the rest', async () => {
    const { run } = await world.start({ featureId: await world.freshFeature() });
    const finished = await world.waitFor(run.id);
    const client = wsClient(world.svc.url);
    const { done } = collect(client, run.id, 5);
    const updates = await done;
    await client.dispose();
    expect(versions(updates)).toEqual(range(6, finished.version));
  });

  test('a subscriber whose socket dies mid-run reconnects with its last version: no gap, no duplicate', async () => {
    world.sandbox.codex.script({ kind: 'implement', pendingPolls: 3 });
    const { run } = await world.start({ featureId: await world.freshFeature() });
    const first = wsClient(world.svc.url);
    const seen: number[] = [];
    const part = collect(first, run.id, 0, (u) => u.event.step === 'APPLY' && u.event.to === 'WAITING');
    const partial = await part.done;
    seen.push(...versions(partial));
    // Kill the socket abruptly (no complete message), as a lost network would.
    await first.dispose();

    const second = wsClient(world.svc.url);
    const rest = await collect(second, run.id, seen.at(-1)!).done;
    await second.dispose();
    seen.push(...versions(rest));
    const final = await world.run(run.id);
    expect(final.status).toBe('SUCCEEDED');
    expect(seen).toEqual(range(1, final.version));
  });

  test('1,000 concurrent subscribers of one run each receive every event; the feed reads once per change, not per subscriber', async () => {
    world.sandbox.codex.script({ kind: 'implement', pendingPolls: 1 });
    const { run } = await world.start({ featureId: await world.freshFeature() });
    const readsBefore = world.svc.http.feed.reads;
    // 50 sockets with 20 subscriptions each, as browser tabs with several panels would open.
    const clients = Array.from({ length: 50 }, () => wsClient(world.svc.url));
    const subs = clients.flatMap((c) => Array.from({ length: 20 }, () => collect(c, run.id, 0)));
    const all = await Promise.all(subs.map((s) => s.done));
    await Promise.all(clients.map((c) => c.dispose()));
    const final = await world.run(run.id);
    for (const updates of all) expect(versions(updates)).toEqual(range(1, final.version));
    expect(all).toHaveLength(1000);
    expect(world.svc.http.feed.reads - readsBefore).toBeLessThanOrEqual(final.version);
  }, 180_000);
});

test('two serve processes and one work process: a subscriber on each sees the same sequence', async () => {
  const ports = [await freePort(), await freePort()];
  const env = { ...world.env, DATABASE_URL: world.databaseUrl };
  const servers: ChildProcess[] = ports.map((port) => spawnCli('serve', { ...env, PORT: String(port) }));
  const worker = spawnCli('work', env);
  try {
    for (const port of ports) {
      for (let i = 0; ; i++) {
        const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
        if (ok) break;
        if (i > 300) throw new Error(`serve on ${port} did not become ready`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    world.sandbox.codex.script({ kind: 'implement', pendingPolls: 1 });
    const { run } = await world.start({ featureId: await world.freshFeature() });
    const clients = ports.map((port) => wsClient(`http://127.0.0.1:${port}`));
    const [a, b] = await Promise.all(clients.map((c) => collect(c, run.id, 0).done));
    await Promise.all(clients.map((c) => c.dispose()));
    expect(versions(a!)).toEqual(versions(b!));
    expect(a!.map((u) => [u.event.step, u.event.to])).toEqual(b!.map((u) => [u.event.step, u.event.to]));
    expect(a!.at(-1).run.status).toBe('SUCCEEDED');
  } finally {
    for (const p of [...servers, worker]) {
      p.kill('SIGTERM');
      await exited(p);
    }
  }
}, 120_000);
