import { SocketPool } from './service.js';

// The subscribers of bench/subscriptions.ts, in a process of their own as a run page's viewers are: the
// server's event loop and the clients' JSON parsing do not share a thread. Started by `fork`; told what to
// subscribe to over IPC, it answers each transition with the arrival times of every subscriber, read from
// process.hrtime (CLOCK_MONOTONIC on Linux: the same clock in every process of the machine).

/** What the benchmark asks of this process. */
export type SubscribersRequest =
  | {
      type: 'subscribe';
      url: string;
      query: string;
      /** `afterVersion` is where the first subscriber's log starts; subscriber i starts `i % spread` versions earlier. */
      variables: { afterVersion: number } & Record<string, unknown>;
      spread: number;
      subscribers: number;
    }
  | { type: 'close' };

/** What it answers: every arrival of one version (nanoseconds of the monotonic clock), or the end. */
export type SubscribersReport =
  | { type: 'arrivals'; version: number; at: number[] }
  | { type: 'failed'; message: string }
  | { type: 'closed' };

const report = (message: SubscribersReport) => process.send!(message);

let sockets: SocketPool | null = null;

function subscribe({ url, query, variables, spread, subscribers }: Extract<SubscribersRequest, { type: 'subscribe' }>): void {
  sockets = new SocketPool(url);
  const arrivals = new Map<number, number[]>();
  let failed = false;
  const fail = (message: string) => {
    if (!failed) report({ type: 'failed', message });
    failed = true;
  };
  for (let i = 0; i < subscribers; i++) {
    // Run pages opened at different moments: each replays the events it has not seen, then goes live.
    const afterVersion = Math.max(0, variables.afterVersion - (i % spread));
    sockets.next().subscribe<{ runUpdated: { version: number } }>(
      { query, variables: { ...variables, afterVersion } },
      {
        next: (msg) => {
          const at = Number(process.hrtime.bigint());
          if (msg.errors || !msg.data) return fail(`subscription error: ${JSON.stringify(msg.errors)}`);
          const { version } = msg.data.runUpdated;
          let seen = arrivals.get(version);
          if (!seen) arrivals.set(version, (seen = []));
          seen.push(at);
          if (seen.length === subscribers) {
            arrivals.delete(version);
            report({ type: 'arrivals', version, at: seen });
          }
        },
        error: (e) => fail(`subscription failed: ${String((e as { reason?: string })?.reason ?? e)}`),
        complete: () => {},
      },
    );
  }
}

process.on('message', (request: SubscribersRequest) => {
  if (request.type === 'subscribe') return subscribe(request);
  void (sockets?.close() ?? Promise.resolve()).then(() => {
    report({ type: 'closed' });
    process.exit(0);
  });
});
