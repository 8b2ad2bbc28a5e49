import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { TOKENS } from './service.js';

export const RUN_UPDATED = `subscription($runId: ID!, $afterVersion: Int) {
  runUpdated(runId: $runId, afterVersion: $afterVersion) {
    version
    event { version step attempt from to at payload }
    run { id status version currentStep steps { step state attempt } outputs { pullRequestUrl } }
  }
}`;

export function wsClient(url: string, token = TOKENS.viewer): Client {
  return createClient({
    url: `${url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: true,
  });
}

/** Collects runUpdated messages until `until` says stop (or the subscription ends). */
export function collect(
  client: Client,
  runId: string,
  afterVersion: number | null,
  until: (update: any) => boolean = (u) => ['SUCCEEDED', 'IN_REVIEW', 'FAILED', 'NO_WORK', 'CANCELLED'].includes(u.run.status) && u.event.step === null,
  /** Another runUpdated document (its selection must hold `version`, `event { step }` and `run { status }` for `until`). */
  query = RUN_UPDATED,
): { updates: any[]; done: Promise<any[]>; stop: () => void } {
  const updates: any[] = [];
  let stop = () => {};
  const done = new Promise<any[]>((resolve, reject) => {
    stop = client.subscribe(
      { query, variables: { runId, afterVersion } },
      {
        next: (msg) => {
          if (msg.errors) return reject(new Error(JSON.stringify(msg.errors)));
          const update = (msg.data as any).runUpdated;
          updates.push(update);
          if (until(update)) {
            stop();
            resolve(updates);
          }
        },
        error: reject,
        complete: () => resolve(updates),
      },
    );
  });
  return { updates, done, stop: () => stop() };
}
