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
import { BatchedSocket } from './batched-socket.js';
import type { Context } from './context.js';
import { publicGraphqlError, type ErrorExposure } from './errors.js';

/** Where one subscription's messages go: graphql-ws's socket, and the start of its `next` message (its id). */
interface Route {
  socket: BatchedSocket;
  head: Buffer;
}

/** One event's result for one key: the formatted result, and its JSON text as bytes once it exists. */
interface Shared {
  result: Promise<FormattedExecutionResult>;
  payload: Buffer | null;
}

const CLOSE_BRACE = Buffer.from('}');

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
 * subscriber. Each subscription's events are written here, to the socket graphql-ws gave it (`route`), as
 * the very `next` message graphql-ws would send: `{"id":…,"type":"next","payload":…}`, its start encoded
 * once per subscription and the payload once per key, and a socket's messages of one turn leave in one
 * write (src/server/batched-socket.ts). The iterator graphql-ws holds yields nothing and ends
 * when the events end, so its `complete` (or `error`) follows the last `next` on the same socket.
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
  private readonly routes = new WeakMap<object, Route>();
  private readonly documents = new WeakMap<DocumentNode, { text: string; sourceOnly: ReadonlySet<string> }>();

  /** graphql-ws's `context`: the subscription with this context value writes its events to `socket` as `id`. */
  route(context: object, socket: WebSocket, id: string): void {
    if (!(socket instanceof BatchedSocket)) throw new Error('the subscription socket\'s WebSocketServer makes BatchedSocket sockets');
    this.routes.set(context, { socket, head: Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":`) });
  }

  /** graphql-ws's `subscribe`: the source stream as graphql-js makes it, each event executed once per key and written here. */
  readonly subscribe = async (args: ExecutionArgs): Promise<AsyncIterable<ExecutionResult> | ExecutionResult> => {
    const route = this.routes.get(args.contextValue as object);
    if (!route) throw new Error('a subscription without a route: SharedFanout.route is called from graphql-ws\'s context');
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return source;
    const key = this.keyOf(args);
    return writeEvents(source[Symbol.asyncIterator](), (event) => this.write(route, this.sharedFor(event, key, args)));
  };

  /** The `next` message of one subscription: its start, the shared payload, the closing brace, as one text frame. */
  private write(route: Route, shared: Shared): Promise<void> | void {
    if (!shared.payload) return shared.result.then(() => this.write(route, shared));
    route.socket.queueText([route.head, shared.payload, CLOSE_BRACE]);
  }

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
    const shared: Shared = { payload: null, result: null! };
    // Resolvers that read only the event answer synchronously: the payload is then ready for the first write.
    const format = ({ errors, ...rest }: ExecutionResult): FormattedExecutionResult => {
      const formatted: FormattedExecutionResult = { ...rest, ...(errors ? { errors: errors.map((e) => publicGraphqlError(e.toJSON(), e, this.exposure)) } : {}) };
      shared.payload = Buffer.from(JSON.stringify(formatted));
      return formatted;
    };
    const result = execute({ ...args, rootValue: event });
    shared.result = result instanceof Promise ? result.then(format) : Promise.resolve(format(result));
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
 * The iterator graphql-ws holds for a subscription whose events are written by `write`: it yields nothing,
 * ends when the source ends and throws what a write throws (graphql-ws then sends `error`). return() (the
 * client's `complete`, a closed socket) reaches the source at once and stops the writes.
 */
function writeEvents(source: AsyncIterator<unknown>, write: (event: unknown) => Promise<void> | void): AsyncIterableIterator<never> {
  let closed = false;
  const close = async () => {
    closed = true;
    await source.return?.();
  };
  let written: Promise<IteratorResult<never>> | null = null;
  const writeAll = async (): Promise<IteratorResult<never>> => {
    try {
      for (;;) {
        const step = await source.next();
        if (step.done || closed) return { value: undefined, done: true };
        const pending = write(step.value);
        if (pending) await pending;
      }
    } catch (err) {
      await close();
      throw err;
    }
  };
  return {
    next: () => (written ??= writeAll()),
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
