import {
  createSourceEventStream,
  execute,
  Kind,
  print,
  visit,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FormattedExecutionResult,
} from 'graphql';
import type { WebSocket } from 'ws';
import type { PushSource } from '../interfaces.js';
import { BatchedSocket } from './batched-socket.js';
import type { Context } from './context.js';
import { publicGraphqlError, type ErrorExposure } from './errors.js';

/** One event's result for one key: its JSON text as bytes once executed, and the writers waiting for it until then. */
interface Shared {
  payload: Buffer | null;
  waiting: SubscriptionWriter[];
  error: unknown;
}

const CLOSE_BRACE = Buffer.from('}');

/**
 * One subscription's `next` messages, written to its socket in the order of its events, each as soon as
 * its payload exists: at once when the execution was synchronous, otherwise when the shared execution
 * finishes (one callback per execution writes for every subscription waiting on it, no promise each).
 */
class SubscriptionWriter {
  /** The first event whose message waits for its payload, and the events after it (kept only when there are any). */
  private waitingFor: Shared | null = null;
  private readonly after: Shared[] = [];
  private drained: (() => void) | null = null;
  private stopped = false;
  /** Where a failed execution goes: the subscription's iterator, which ends with graphql-ws's `error`. */
  onFailure: (err: unknown) => void = () => {};

  constructor(
    private readonly socket: BatchedSocket,
    /** `{"id":…,"type":"next","payload":`, encoded once for the subscription. */
    private readonly head: Buffer,
  ) {}

  write(shared: Shared): void {
    if (this.stopped) return;
    if (this.waitingFor) {
      this.after.push(shared);
      if (!shared.payload) shared.waiting.push(this);
    } else if (shared.payload) this.send(shared.payload);
    else {
      this.waitingFor = shared;
      shared.waiting.push(this);
    }
  }

  /** A shared execution this writer waits on has finished. */
  settled(shared: Shared): void {
    if (this.stopped) return;
    if (shared.error !== undefined) return this.onFailure(shared.error);
    while (this.waitingFor?.payload) {
      this.send(this.waitingFor.payload);
      this.waitingFor = this.after.shift() ?? null;
    }
    if (!this.waitingFor) this.drained?.();
  }

  /** Nothing more is written: the subscription ended (the client's `complete`, a closed socket, an error). */
  stop(): void {
    this.stopped = true;
    this.waitingFor = null;
    this.after.length = 0;
    this.drained?.();
  }

  /** Resolves once every message of the events so far is written. */
  whenDrained(): Promise<void> {
    if (!this.waitingFor) return Promise.resolve();
    return new Promise((resolve) => (this.drained = resolve));
  }

  private send(payload: Buffer): void {
    this.socket.queueText(this.head, payload, CLOSE_BRACE);
  }
}

/**
 * Subscription fan-out that does not grow with viewers. The feed hands every subscriber of a run the SAME
 * update object per event; here each update is executed once per distinct (document, operation name,
 * variables, role) and serialised once, and every subscription that asked for the same thing gets those
 * bytes. Variables that only feed a subscription field's source arguments (`sourceArguments`: which events
 * it gets, such as where a run page's log starts) are left out of "distinct": they cannot change a payload.
 *
 * How the bytes go out within graphql-ws's protocol: graphql-ws still accepts, validates and completes
 * every subscription (its `subscribe`, `complete` and `error` messages), but a subscription's events do not
 * pass through its per-subscription loop, which awaited several promises and stringified a message per
 * subscriber. Each subscription's events are written here (SubscriptionWriter), to the socket graphql-ws
 * gave it (`route`), as the very `next` message graphql-ws would send: `{"id":…,"type":"next","payload":…}`,
 * its start encoded once per subscription and the payload once per key, and a socket's messages of one turn
 * leave in one write (src/server/batched-socket.ts). A source that pushes (RunFeed's queues) hands each
 * event over in its own call, so one event reaches every subscription in one synchronous pass. The iterator
 * graphql-ws holds yields nothing and ends once the events end and their messages are written, so its
 * `complete` (or `error`) follows the last `next` on the same socket.
 */
export class SharedFanout {
  /** Errors in a shared result are made public once, as every answer's are (no internals unless debugging). */
  constructor(
    private readonly exposure: ErrorExposure,
    /** Per subscription field, the arguments that choose its events and never shape a payload. */
    private readonly sourceArguments: Readonly<Record<string, readonly string[]>> = {},
  ) {}

  /** Executions made for subscription events (the figure that stays flat as subscribers grow). */
  executions = 0;
  private readonly results = new WeakMap<object, Map<string, Shared>>();
  private readonly writers = new WeakMap<object, SubscriptionWriter>();
  private readonly documents = new WeakMap<DocumentNode, { text: string; sourceOnly: ReadonlySet<string> }>();

  /** graphql-ws's `context`: the subscription with this context value writes its events to `socket` as `id`. */
  route(context: object, socket: WebSocket, id: string): void {
    if (!(socket instanceof BatchedSocket)) throw new Error('the subscription socket\'s WebSocketServer makes BatchedSocket sockets');
    this.writers.set(context, new SubscriptionWriter(socket, Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":`)));
  }

  /** graphql-ws's `subscribe`: the source stream as graphql-js makes it, each event executed once per key and written here. */
  readonly subscribe = async (args: ExecutionArgs): Promise<AsyncIterable<ExecutionResult> | ExecutionResult> => {
    const writer = this.writers.get(args.contextValue as object);
    if (!writer) throw new Error('a subscription without a route: SharedFanout.route is called from graphql-ws\'s context');
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return source;
    const key = this.keyOf(args);
    const events = source[Symbol.asyncIterator]();
    return writeEvents(events, writer, (event) => this.sharedFor(event, key, args));
  };

  /** What makes two subscriptions' results the same: the document, the operation, the variables and the role asking. */
  private keyOf(args: ExecutionArgs): string {
    let document = this.documents.get(args.document);
    if (document === undefined) {
      document = { text: print(args.document), sourceOnly: sourceOnlyVariables(args.document, this.sourceArguments) };
      this.documents.set(args.document, document);
    }
    const { sourceOnly } = document;
    const variables = Object.entries(args.variableValues ?? {}).filter(([name]) => !sourceOnly.has(name));
    const role = (args.contextValue as Context | undefined)?.principal?.role ?? '';
    return JSON.stringify([document.text, args.operationName ?? null, variables, role]);
  }

  private sharedFor(event: unknown, key: string, args: ExecutionArgs): Shared {
    // An event that is not an object (no identity to share by) is executed for its subscriber alone.
    if (typeof event !== 'object' || event === null) return this.run(event, args);
    let byKey = this.results.get(event);
    if (!byKey) this.results.set(event, (byKey = new Map()));
    let shared = byKey.get(key);
    if (!shared) byKey.set(key, (shared = this.run(event, args)));
    return shared;
  }

  private run(event: unknown, args: ExecutionArgs): Shared {
    this.executions++;
    const shared: Shared = { payload: null, waiting: [], error: undefined };
    const encode = ({ errors, ...rest }: ExecutionResult) => {
      const formatted: FormattedExecutionResult = { ...rest, ...(errors ? { errors: errors.map((e) => publicGraphqlError(e.toJSON(), e, this.exposure)) } : {}) };
      shared.payload = Buffer.from(JSON.stringify(formatted));
    };
    const settle = () => {
      for (const writer of shared.waiting.splice(0)) writer.settled(shared);
    };
    const result = execute({ ...args, rootValue: event });
    // Resolvers that read only the event answer synchronously: the payload is then ready for the first write.
    if (!(result instanceof Promise)) encode(result);
    else
      result.then(encode).then(settle, (err: unknown) => {
        shared.error = err ?? new Error('subscription execution failed');
        settle();
      });
    return shared;
  }
}

/**
 * The variables of `document` used nowhere but as a source argument of a root subscription field, e.g.
 * `$afterVersion` in `runUpdated(runId: $runId, afterVersion: $afterVersion)`. A variable also used
 * anywhere else (another argument, a directive, a field below) stays part of the key.
 */
function sourceOnlyVariables(document: DocumentNode, sourceArguments: Readonly<Record<string, readonly string[]>>): Set<string> {
  const asSource = new Map<string, number>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION || definition.operation !== 'subscription') continue;
    for (const selection of definition.selectionSet.selections) {
      if (selection.kind !== Kind.FIELD) continue;
      const names = sourceArguments[selection.name.value] ?? [];
      for (const { name, value } of selection.arguments ?? []) {
        if (names.includes(name.value) && value.kind === Kind.VARIABLE) asSource.set(value.name.value, (asSource.get(value.name.value) ?? 0) + 1);
      }
    }
  }
  const uses = new Map<string, number>();
  visit(document, {
    // A definition names the variable; it is not a use.
    VariableDefinition: () => false,
    Variable: (node) => void uses.set(node.name.value, (uses.get(node.name.value) ?? 0) + 1),
  });
  return new Set([...asSource].filter(([name, count]) => uses.get(name) === count).map(([name]) => name));
}

/**
 * The iterator graphql-ws holds for a subscription whose events `writer` writes: it yields nothing, ends once
 * the source ends and the writer has written everything, and throws what an execution throws (graphql-ws
 * then sends `error`). A source that pushes (RunFeed's queues) hands its events over in its own call,
 * with no promise per event and subscription; any other is iterated. Writing starts when graphql-ws first
 * asks for a result. return() (the client's `complete`, a closed socket) reaches the source at once and
 * stops the writes.
 */
function writeEvents(source: AsyncIterator<unknown>, writer: SubscriptionWriter, sharedFor: (event: unknown) => Shared): AsyncIterableIterator<never> {
  let closed = false;
  let ended: Promise<IteratorResult<never>> | null = null;
  let reject: (err: unknown) => void = () => {};
  const close = async () => {
    closed = true;
    writer.stop();
    await source.return?.();
  };
  const fail = (err: unknown) => {
    if (closed) return;
    void close();
    reject(err);
  };
  // What sharedFor throws is an execution that failed at once.
  const take = (event: unknown) => {
    if (closed) return;
    try {
      writer.write(sharedFor(event));
    } catch (err) {
      fail(err);
    }
  };
  writer.onFailure = fail;
  const run = () =>
    new Promise<IteratorResult<never>>((resolve, rejectRun) => {
      reject = rejectRun;
      const done = () => void writer.whenDrained().then(() => resolve({ value: undefined, done: true }));
      if (isPushSource(source)) return source.listen({ next: take, end: done });
      void (async () => {
        for (;;) {
          const step = await source.next();
          if (step.done || closed) return done();
          take(step.value);
        }
      })().catch(fail);
    });
  return {
    next: () => (ended ??= run()),
    async return() {
      await close();
      return { value: undefined, done: true };
    },
    async throw(err: unknown) {
      await close();
      throw err;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

const isPushSource = (source: AsyncIterator<unknown>): source is AsyncIterator<unknown> & PushSource<unknown> =>
  typeof (source as Partial<PushSource<unknown>>).listen === 'function';
