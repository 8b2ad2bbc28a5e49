import { afterAll, beforeAll, expect, test } from 'vitest';
import { startWorking } from '../../src/jobs/runner.js';
import { collect, wsClient } from '../support/subscriber.js';
import { until } from '../support/until.js';
import { startWorld, type World } from '../support/world.js';

// No workers until every subscriber is in place: then every event of the runs is live, and each live
// event's executions can be counted exactly.
let world: World;
beforeAll(async () => {
  world = await startWorld({ workers: false });
});
afterAll(async () => world?.close());

/** A second document: a smaller selection of the same subscription (a run list's row, say). */
const RUN_STATUS = `subscription($runId: ID!, $afterVersion: Int) {
  runUpdated(runId: $runId, afterVersion: $afterVersion) { version event { step to } run { status } }
}`;

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

test('each event is executed once for 1,000 identical subscribers and twice for two distinct documents', async () => {
  world.sandbox.codex.script({ kind: 'implement', pendingPolls: 1 }, { kind: 'implement', pendingPolls: 1 });
  const one = (await world.start({ featureId: await world.freshFeature() })).run;
  const two = (await world.start({ featureId: await world.freshFeature() })).run;
  // 100 sockets of 20 subscriptions: 1,000 identical ones on the first run, 500 + 500 of two documents on the second.
  const clients = Array.from({ length: 100 }, () => wsClient(world.svc.url));
  const identical = clients.slice(0, 50).flatMap((c) => Array.from({ length: 20 }, () => collect(c, one.id, one.version)));
  const full = clients.slice(50, 75).flatMap((c) => Array.from({ length: 20 }, () => collect(c, two.id, two.version)));
  const small = clients.slice(75).flatMap((c) => Array.from({ length: 20 }, () => collect(c, two.id, two.version, undefined, RUN_STATUS)));
  await until(() => world.svc.http.feed.subscriberCount >= 2000, '2,000 subscriptions to be active');
  const before = world.svc.http.fanout.executions;
  const working = await startWorking(world.svc.app);
  try {
    const [a, b, c] = await Promise.all([identical, full, small].map((group) => Promise.all(group.map((s) => s.done))));
    await Promise.all(clients.map((client) => client.dispose()));
    const [endOne, endTwo] = [await world.run(one.id), await world.run(two.id)];
    expect([endOne.status, endTwo.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    const eventsOne = endOne.version - one.version;
    const eventsTwo = endTwo.version - two.version;
    expect(eventsOne).toBeGreaterThan(10);

    // Every subscriber got every event, each in the shape its own document asked for.
    for (const updates of a!) expect(updates.map((u: any) => u.version)).toEqual(range(one.version + 1, endOne.version));
    for (const updates of b!) {
      expect(updates.map((u: any) => u.version)).toEqual(range(two.version + 1, endTwo.version));
      expect(updates.at(-1).run.steps).toHaveLength(5);
    }
    for (const updates of c!) {
      expect(updates.map((u: any) => u.version)).toEqual(range(two.version + 1, endTwo.version));
      expect(Object.keys(updates.at(-1))).toEqual(['version', 'event', 'run']);
      expect(updates.at(-1)).toEqual({ version: endTwo.version, event: { step: null, to: 'SUCCEEDED' }, run: { status: 'SUCCEEDED' } });
    }
    expect([a!.length, b!.length, c!.length]).toEqual([1000, 500, 500]);
    // Once per event for the identical thousand, twice per event for the two documents.
    expect(world.svc.http.fanout.executions - before).toBe(eventsOne + 2 * eventsTwo);
  } finally {
    await working.stop();
  }
}, 240_000);

test('run pages opened at different moments (each subscribed after its own version) share every live event\'s execution', async () => {
  world.sandbox.codex.script({ kind: 'implement', pendingPolls: 1 });
  const run = (await world.start({ featureId: await world.freshFeature() })).run;
  expect(run.version).toBeGreaterThanOrEqual(2);
  // 200 viewers over 10 sockets, each having seen the log up to a version of its own (0 to the current one).
  const clients = Array.from({ length: 10 }, () => wsClient(world.svc.url));
  const viewers = Array.from({ length: 200 }, (_, i) => {
    const afterVersion = i % (run.version + 1);
    return { afterVersion, subscription: collect(clients[i % clients.length]!, run.id, afterVersion) };
  });
  // Each has its backlog (the events after its own version) before any live event exists.
  await until(() => viewers.every((v) => v.subscription.updates.length === run.version - v.afterVersion), 'every backlog');
  const before = world.svc.http.fanout.executions;
  const working = await startWorking(world.svc.app);
  try {
    const received = await Promise.all(viewers.map((v) => v.subscription.done));
    await Promise.all(clients.map((client) => client.dispose()));
    const end = await world.run(run.id);
    expect(end.status).toBe('SUCCEEDED');
    viewers.forEach((v, i) => expect(received[i]!.map((u: any) => u.version)).toEqual(range(v.afterVersion + 1, end.version)));
    // One execution per live event, whatever version each viewer started from.
    expect(world.svc.http.fanout.executions - before).toBe(end.version - run.version);
  } finally {
    await working.stop();
  }
}, 240_000);
