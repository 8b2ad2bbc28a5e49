import { EventEmitter, on } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLID, GraphQLInt, GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString, GraphQLBoolean } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import pg from 'pg';
import { WebSocketServer } from 'ws';

/** A committed transition, as announced: which run, which version. */
interface Notice {
  runId: string;
  version: number;
}

export interface NaiveFeed {
  /** http://127.0.0.1:<port>; the socket is at /graphql. */
  url: string;
  publish(notice: Notice): void;
  subscriberCount(): number;
  close(): Promise<void>;
}

const required = <T extends import('graphql').GraphQLType>(type: T) => new GraphQLNonNull(type);

/**
 * What a straightforward implementation does, as the baseline of the subscription benchmark: a
 * hand-built graphql-js schema whose `runUpdated` is fed by an in-memory PubSub (an EventEmitter turned
 * async iterator by `events.on`) and served by graphql-ws. graphql-ws executes the subscription's
 * selection once per subscriber per event, and each execution reads the event, the run and its steps
 * from the database: 3 queries per subscriber per transition. Same field names as the real schema,
 * so one document serves both.
 */
export async function startNaiveFeed(databaseUrl: string): Promise<NaiveFeed> {
  // The pool size of the service's own DataSource.
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 20, application_name: 'bench-naive-feed' });
  const pubsub = new EventEmitter();
  pubsub.setMaxListeners(0);

  const step = new GraphQLObjectType({
    name: 'RunStep',
    fields: { step: { type: required(GraphQLString) }, state: { type: required(GraphQLString) }, attempt: { type: required(GraphQLInt) } },
  });
  const run = new GraphQLObjectType({
    name: 'SpecWorkflowRun',
    fields: {
      id: { type: required(GraphQLID) },
      status: { type: required(GraphQLString) },
      version: { type: required(GraphQLInt) },
      steps: {
        type: required(new GraphQLList(required(step))),
        resolve: async (r: { id: string }) =>
          (await pool.query('SELECT step, state, attempt FROM step_attempt WHERE run_id = $1 ORDER BY step, attempt', [r.id])).rows,
      },
    },
  });
  const event = new GraphQLObjectType({
    name: 'RunEventType',
    fields: {
      version: { type: required(GraphQLInt) },
      step: { type: GraphQLString },
      attempt: { type: GraphQLInt },
      from: { type: GraphQLString },
      to: { type: required(GraphQLString) },
      at: { type: required(GraphQLString), resolve: (e: { at: Date }) => e.at.toISOString() },
    },
  });
  const update = new GraphQLObjectType({
    name: 'RunUpdate',
    fields: {
      version: { type: required(GraphQLInt) },
      event: { type: required(event) },
      run: {
        type: required(run),
        resolve: async (u: { runId: string }) => (await pool.query('SELECT id, status, version FROM spec_workflow_run WHERE id = $1', [u.runId])).rows[0],
      },
    },
  });
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLBoolean, resolve: () => true } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        runUpdated: {
          type: required(update),
          args: { runId: { type: required(GraphQLID) }, afterVersion: { type: GraphQLInt } },
          // `on` yields the emitted arguments as an array; its return() removes the listener at once.
          subscribe: (_root, args: { runId: string }) => on(pubsub, args.runId),
          resolve: async ([notice]: [Notice]) => {
            const { rows } = await pool.query(
              'SELECT version, step, attempt, from_state AS "from", to_state AS "to", at FROM run_event WHERE run_id = $1 AND version = $2',
              [notice.runId, notice.version],
            );
            return { version: notice.version, event: rows[0], runId: notice.runId };
          },
        },
      },
    }),
  });

  const server = createServer();
  const wss = new WebSocketServer({ server, path: '/graphql' });
  const ws = useServer({ schema }, wss);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    publish: (notice) => void pubsub.emit(notice.runId, notice),
    // `on` also listens for 'error'; a subscriber is a listener of a run's name.
    subscriberCount: () => pubsub.eventNames().reduce((n, name) => (name === 'error' ? n : n + pubsub.listenerCount(name)), 0),
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await ws.dispose();
      await new Promise((resolve) => server.close(resolve));
      await pool.end();
    },
  };
}
