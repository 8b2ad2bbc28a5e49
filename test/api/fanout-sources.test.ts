import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLInt, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { afterAll, beforeAll, expect, test } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { createLogger } from '../../src/log.js';
import { BatchedSocket } from '../../src/server/batched-socket.js';
import { SharedFanout } from '../../src/server/fanout.js';

// The fan-out with a source that is only an async iterator (an async generator, not RunFeed's pushing
// queue) and fields that resolve later or fail: a schema of its own, served by graphql-ws over `ws` as
// the subscription socket serves, read by graphql-ws's client.

/** Ticks 1..count, each after a turn of the event loop; one shared object per tick, as the feed shares its updates. */
const ticks = new Map<number, { n: number }>();
const tick = (n: number) => ticks.get(n) ?? (ticks.set(n, { n }), ticks.get(n)!);

const Tick = new GraphQLObjectType({
  name: 'Tick',
  fields: {
    n: { type: new GraphQLNonNull(GraphQLInt), resolve: async (t: { n: number }) => (await new Promise((r) => setTimeout(r, 2)), t.n) },
    // Fails on every third tick, with an internal message no client may see.
    label: {
      type: GraphQLString,
      resolve: (t: { n: number }) => {
        if (t.n % 3 === 0) throw new Error('secret internal detail');
        return `tick ${t.n}`;
      },
    },
  },
});

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString, resolve: () => 'ok' } } }),
  subscription: new GraphQLObjectType({
    name: 'Subscription',
    fields: {
      ticks: {
        type: new GraphQLNonNull(Tick),
        args: { count: { type: new GraphQLNonNull(GraphQLInt) } },
        subscribe: async function* (_root: unknown, { count }: { count: number }) {
          for (let n = 1; n <= count; n++) {
            await new Promise((r) => setImmediate(r));
            yield tick(n);
          }
        },
        resolve: (t: { n: number }) => t,
      },
    },
  }),
});

let server: Server;
let url: string;
const fanout = new SharedFanout({ debug: false, log: createLogger('silent') });
beforeAll(async () => {
  server = createServer();
  const wss = new WebSocketServer({ server, path: '/graphql', perMessageDeflate: false, WebSocket: BatchedSocket } as ConstructorParameters<typeof WebSocketServer>[0]);
  useServer(
    {
      schema,
      subscribe: fanout.subscribe,
      context: (_ctx, id) => {
        const context = {};
        fanout.route(context, _ctx.extra.socket, id);
        return context;
      },
    },
    wss,
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});
afterAll(async () => new Promise((resolve) => server.close(resolve)));

function collect(client: Client, count: number): Promise<{ updates: unknown[]; completed: boolean }> {
  const updates: unknown[] = [];
  return new Promise((resolve, reject) =>
    client.subscribe(
      { query: `subscription($count: Int!) { ticks(count: $count) { n label } }`, variables: { count } },
      { next: (msg) => updates.push(msg), error: reject, complete: () => resolve({ updates, completed: true }) },
    ),
  );
}

test('an iterated source with fields that resolve later: every subscriber gets every event in order, then complete; errors are public, executions shared', async () => {
  const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0 });
  try {
    const before = fanout.executions;
    const [a, b] = await Promise.all([collect(client, 7), collect(client, 7)]);
    for (const { updates, completed } of [a, b]) {
      expect(completed).toBe(true);
      expect(updates).toHaveLength(7);
      updates.forEach((update, i) => {
        const n = i + 1;
        if (n % 3 !== 0) return expect(update).toEqual({ data: { ticks: { n, label: `tick ${n}` } } });
        // The failed field is null, its error public: no internal message, an id to find it in the log.
        expect(update).toMatchObject({ data: { ticks: { n, label: null } }, errors: [{ message: 'Internal server error', path: ['ticks', 'label'] }] });
        expect(JSON.stringify(update)).not.toContain('secret');
      });
    }
    // Two subscriptions of the same document and variables: one execution per tick.
    expect(fanout.executions - before).toBe(7);
  } finally {
    await client.dispose();
  }
});

test('a subscriber that completes early stops its writes; the other still gets everything', async () => {
  const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0 });
  try {
    const early: unknown[] = [];
    const stop = client.subscribe({ query: `subscription { ticks(count: 50) { n } }` }, { next: (msg) => early.push(msg), error: () => {}, complete: () => {} });
    const full = collect(client, 50);
    for (let i = 0; early.length < 3; i++) {
      if (i > 500) throw new Error('no ticks');
      await new Promise((r) => setTimeout(r, 5));
    }
    stop();
    const stoppedAt = early.length;
    const { updates } = await full;
    expect(updates).toHaveLength(50);
    // At most what was already on the wire when the client said complete.
    expect(early.length).toBeLessThanOrEqual(stoppedAt + 1);
  } finally {
    await client.dispose();
  }
});
