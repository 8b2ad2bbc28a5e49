import WebSocket from 'ws';
import { SocketPool, TOKENS } from './service.js';

// The subscribers of bench/subscriptions.ts, in a process of their own as a run page's viewers are: the
// server's event loop and the clients' JSON parsing do not share a thread. Started by `fork`; told what to
// subscribe to over IPC, it answers each transition with the arrival times of every subscriber, read from
// process.hrtime (CLOCK_MONOTONIC on Linux: the same clock in every process of the machine).
//
// Two kinds of subscriber:
// - `graphql-ws`: graphql-ws's own client; a message has arrived when the
//   client hands it to the subscription's `next`, after parsing it. One process parsing a thousand messages
//   one after another is part of that figure.
// - `protocol`: the same protocol (graphql-transport-ws: connection_init with the token, subscribe, next)
//   spoken over `ws` directly; a message has arrived when its WebSocket frame is
//   read whole. Every message is then parsed and checked (type, id, version, no errors) once the sockets
//   have been quiet for a millisecond, so one viewer's parsing does not delay another viewer's arrival.

export type SubscriberKind = 'graphql-ws' | 'protocol';

/** What the benchmark asks of this process. */
export type SubscribersRequest =
  | {
      type: 'subscribe';
      kind: SubscriberKind;
      url: string;
      query: string;
      /** `afterVersion` is where the first subscriber's log starts; subscriber i starts `i % spread` versions earlier. */
      variables: { afterVersion: number } & Record<string, unknown>;
      spread: number;
      subscribers: number;
      /** Subscriptions per socket. */
      perSocket: number;
    }
  | { type: 'close' };

/** What it answers: every arrival of one version (nanoseconds of the monotonic clock) with the CPU this process has used so far, or the end. */
export type SubscribersReport =
  | { type: 'arrivals'; version: number; at: number[]; cpuMicros: number }
  | { type: 'failed'; message: string }
  | { type: 'closed' };

const report = (message: SubscribersReport) => process.send!(message);
const now = () => Number(process.hrtime.bigint());

let close: () => Promise<void> = async () => {};
let failed = false;
const fail = (message: string) => {
  if (!failed) report({ type: 'failed', message });
  failed = true;
};

/** Run pages opened at different moments: subscriber i starts `i % spread` versions back, replays what it missed, then goes live. */
const afterVersionOf = (i: number, latest: number, spread: number): number => Math.max(0, latest - (i % spread));

/** Collects each version's arrivals and reports a version once every subscriber has it. */
function arrivalsOf(subscribers: number): (version: number, at: number) => void {
  const arrivals = new Map<number, number[]>();
  return (version, at) => {
    let seen = arrivals.get(version);
    if (!seen) arrivals.set(version, (seen = []));
    seen.push(at);
    if (seen.length === subscribers) {
      arrivals.delete(version);
      const cpu = process.cpuUsage();
      report({ type: 'arrivals', version, at: seen, cpuMicros: cpu.user + cpu.system });
    }
  };
}

function subscribeGraphqlWs({ url, query, variables, spread, subscribers, perSocket }: Extract<SubscribersRequest, { type: 'subscribe' }>): void {
  const sockets = new SocketPool(url, perSocket);
  close = () => sockets.close();
  const arrived = arrivalsOf(subscribers);
  for (let i = 0; i < subscribers; i++) {
    sockets.next().subscribe<{ runUpdated: { version: number } }>(
      { query, variables: { ...variables, afterVersion: afterVersionOf(i, variables.afterVersion, spread) } },
      {
        next: (msg) => {
          const at = now();
          if (msg.errors || !msg.data) return fail(`subscription error: ${JSON.stringify(msg.errors)}`);
          arrived(msg.data.runUpdated.version, at);
        },
        error: (e) => fail(`subscription failed: ${String((e as { reason?: string })?.reason ?? e)}`),
        complete: () => {},
      },
    );
  }
}

function subscribeProtocol({ url, query, variables, spread, subscribers, perSocket }: Extract<SubscribersRequest, { type: 'subscribe' }>): void {
  const arrived = arrivalsOf(subscribers);
  const pending: { at: number; socket: number; data: Buffer }[] = [];
  const sockets: WebSocket[] = [];
  // Parsing waits until no frame has come for a millisecond: after a transition's last message, never between two.
  let seen = 0;
  const check = setInterval(() => {
    if (pending.length !== seen) return void (seen = pending.length);
    for (const { at, socket, data } of pending.splice(0)) {
      const message = JSON.parse(data.toString()) as { id?: string; type: string; payload?: { data?: { runUpdated?: { version: number } }; errors?: unknown } };
      if (message.type !== 'next') return fail(`socket ${socket}: ${message.type} ${JSON.stringify(message.payload)}`);
      const version = message.payload?.data?.runUpdated?.version;
      if (message.payload?.errors || typeof version !== 'number') return fail(`subscription error: ${JSON.stringify(message.payload)}`);
      arrived(version, at);
    }
    seen = 0;
  }, 1);
  for (let s = 0; s * perSocket < subscribers; s++) {
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    sockets.push(socket);
    let acknowledged = false;
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${TOKENS.viewer}` } })));
    socket.on('message', (data: Buffer) => {
      if (acknowledged) return void pending.push({ at: now(), socket: s, data });
      const message = JSON.parse(data.toString()) as { type: string };
      if (message.type !== 'connection_ack') return fail(`socket ${s}: expected connection_ack, got ${message.type}`);
      acknowledged = true;
      for (let i = s * perSocket; i < Math.min(subscribers, (s + 1) * perSocket); i++) {
        const payload = { query, variables: { ...variables, afterVersion: afterVersionOf(i, variables.afterVersion, spread) } };
        socket.send(JSON.stringify({ id: String(i), type: 'subscribe', payload }));
      }
    });
    socket.on('error', (e) => fail(`socket ${s}: ${e.message}`));
    socket.on('close', (code, reason) => {
      if (code !== 1000) fail(`socket ${s} closed: ${code} ${reason.toString()}`);
    });
  }
  close = async () => {
    clearInterval(check);
    await Promise.all(
      sockets.map(
        (socket) =>
          new Promise<void>((resolve) => {
            if (socket.readyState === WebSocket.CLOSED) return resolve();
            socket.once('close', () => resolve());
            socket.close(1000);
          }),
      ),
    );
  };
}

process.on('message', (request: SubscribersRequest) => {
  if (request.type === 'subscribe') return request.kind === 'protocol' ? subscribeProtocol(request) : subscribeGraphqlWs(request);
  void close().then(() => {
    report({ type: 'closed' });
    process.exit(0);
  });
});
