import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
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
import { WebSocket } from 'ws';
import type { Context } from './context.js';
import { publicGraphqlError, type ErrorExposure } from './errors.js';

/**
 * Subscription fan-out that does not grow with viewers. The feed hands every subscriber of a run the SAME
 * update object per event; here each update is executed once per distinct (document, operation name,
 * variables, role) and serialised once, and every socket that asked for the same thing sends that text.
 * Variables that only feed a subscription field's source arguments (`sourceArguments`: which events it
 * gets, such as where a run page's log starts) are left out of "distinct": they cannot change a payload.
 *
 * How the text is shared within graphql-ws's protocol: graphql-ws builds each `next` message itself as
 * `{"id":…,"type":"next","payload":…}` and stringifies it with our `jsonMessageReplacer`. For a shared
 * result the replacer puts a placeholder string in place of the payload and hands the result's JSON text
 * over; the socket class of our WebSocketServer swaps the placeholder back for that text in the message's
 * tail (an exact match: the payload is the message's last field, and the id before it is JSON-escaped, so
 * nothing a client sends can end a message with the placeholder). graphql-ws stringifies and sends in one
 * synchronous run (stringifyMessage, then the ws adapter's send), so the hand-over cannot be taken by
 * another message; a message with no placeholder clears it. The test of 1,000 subscribers checks every
 * message as a client parses it.
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
  private readonly results = new WeakMap<object, Map<string, Promise<FormattedExecutionResult>>>();
  private readonly texts = new WeakMap<FormattedExecutionResult, string>();
  private readonly documents = new WeakMap<DocumentNode, { text: string; sourceOnly: ReadonlySet<string> }>();
  private readonly placeholder = `\u0000shared-result-${randomUUID()}`;
  private readonly tail = `,"payload":${JSON.stringify(this.placeholder)}}`;
  private handoff: string | null = null;

  /** graphql-ws's `subscribe`: the source stream as graphql-js makes it, each event executed once per key. */
  readonly subscribe = async (args: ExecutionArgs): Promise<AsyncIterable<ExecutionResult> | ExecutionResult> => {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return source;
    const key = this.keyOf(args);
    // Results are yielded already formatted (errors as JSON): onNext sends them as they are.
    return mapEvents(source[Symbol.asyncIterator](), (event) => this.resultFor(event, key, args)) as AsyncIterable<ExecutionResult>;
  };

  /** graphql-ws's `onNext`: a shared result goes out as that very object, so the replacer knows it. */
  readonly onNext = (_ctx: unknown, _id: string, _payload: unknown, _args: unknown, result: ExecutionResult): FormattedExecutionResult | void =>
    this.texts.has(result as FormattedExecutionResult) ? (result as FormattedExecutionResult) : undefined;

  /** graphql-ws's `jsonMessageReplacer`: a shared payload becomes the placeholder; its text is handed over. */
  readonly replacer = (key: string, value: unknown): unknown => {
    if (key !== 'payload' || typeof value !== 'object' || value === null) return value;
    const text = this.texts.get(value as FormattedExecutionResult);
    if (text === undefined) return value;
    this.handoff = text;
    return this.placeholder;
  };

  /** The message as it goes on the wire: the placeholder at its tail replaced by the shared text. */
  expand(data: string): string {
    const text = this.handoff;
    this.handoff = null;
    if (text === null || !data.endsWith(this.tail)) return data;
    return `${data.slice(0, -this.tail.length)},"payload":${text}}`;
  }

  /**
   * A `ws` socket class (WebSocketServer's `WebSocket` option) whose text messages pass through `expand`,
   * and whose frames of one turn of the event loop leave in one write: one event for 20 subscriptions on
   * a socket is one system call, not 20 (per-message writes were half the CPU time at 1,000 subscribers).
   */
  socketClass(): typeof WebSocket {
    const fanout = this;
    return class SharedTextSocket extends WebSocket {
      private corked = false;

      override send(data: unknown, ...rest: unknown[]): void {
        // ws keeps its TCP socket in `_socket` (no public handle); without it frames are written one by one.
        const tcp = (this as unknown as { _socket?: Socket })._socket;
        if (tcp && !this.corked && !tcp.destroyed) {
          this.corked = true;
          tcp.cork();
          setImmediate(() => {
            this.corked = false;
            tcp.uncork();
          });
        }
        (super.send as (...args: unknown[]) => void)(typeof data === 'string' ? fanout.expand(data) : data, ...rest);
      }
    } as typeof WebSocket;
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

  private resultFor(event: unknown, key: string, args: ExecutionArgs): Promise<FormattedExecutionResult> {
    // An event that is not an object (no identity to share by) is executed for its subscriber alone.
    if (typeof event !== 'object' || event === null) return this.run(event, args);
    let byKey = this.results.get(event);
    if (!byKey) this.results.set(event, (byKey = new Map()));
    let result = byKey.get(key);
    if (!result) byKey.set(key, (result = this.run(event, args)));
    return result;
  }

  private async run(event: unknown, args: ExecutionArgs): Promise<FormattedExecutionResult> {
    this.executions++;
    const { errors, ...rest } = await execute({ ...args, rootValue: event });
    const formatted: FormattedExecutionResult = { ...rest, ...(errors ? { errors: errors.map((e) => publicGraphqlError(e.toJSON(), e, this.exposure)) } : {}) };
    this.texts.set(formatted, JSON.stringify(formatted));
    return formatted;
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

/** The source stream mapped event by event; return() reaches the source at once, even while a next() waits. */
function mapEvents<T>(source: AsyncIterator<unknown>, map: (event: unknown) => Promise<T>): AsyncIterableIterator<T> {
  const close = async () => {
    await source.return?.();
  };
  return {
    async next() {
      const step = await source.next();
      if (step.done) return { value: undefined, done: true };
      try {
        return { value: await map(step.value), done: false };
      } catch (err) {
        await close();
        throw err;
      }
    },
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
