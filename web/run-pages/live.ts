import { createClient, type Client } from 'graphql-ws';
import { readToken } from '../token.js';
import { TOKEN_REFUSED } from './api.js';

/** How a live view stands, for the status line the page shows. */
export type LiveState =
  | { kind: 'connecting' }
  | { kind: 'live' }
  | { kind: 'retrying'; inSeconds: number; reason: string }
  | { kind: 'stopped'; message: string };

export interface Watch {
  stop(): void;
}

/** Close codes after which subscribing again cannot help (graphql-ws and our server's 4401/4403). */
const FINAL_CLOSE: Record<number, string> = {
  4400: 'The service rejected the subscription as malformed (4400).',
  4401: TOKEN_REFUSED,
  4403: 'The token lacks the viewer role (4403): ask for a token with at least that role.',
  4406: 'The browser and the service speak different subscription protocols (4406).',
};

const closeCode = (e: unknown): number | null =>
  typeof e === 'object' && e !== null && 'code' in e && typeof (e as { code: unknown }).code === 'number' ? (e as { code: number }).code : null;

/**
 * Keeps one graphql-ws subscription open. When the socket drops, it subscribes again after a growing pause
 * with `variables()` read afresh, so a caller can resume from the last version it saw; `beforeResubscribe`
 * lets a caller that cannot resume reload what it shows. The library's own retry is off: it would re-send
 * the first variables.
 */
export function watch<T>(options: {
  query: string;
  variables: () => Record<string, unknown>;
  onData: (data: T) => void;
  onState: (state: LiveState) => void;
  beforeResubscribe?: () => Promise<void>;
  /** The server ended the subscription: a message to stop with (nothing more will come), or null to subscribe again. */
  onComplete?: () => string | null;
}): Watch {
  let stopped = false;
  let failures = 0;
  let client: Client | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const stop = (message?: string) => {
    stopped = true;
    clearTimeout(timer);
    void client?.dispose();
    client = null;
    if (message) options.onState({ kind: 'stopped', message });
  };

  const open = () => {
    options.onState({ kind: 'connecting' });
    const token = readToken();
    client = createClient({
      url: new URL('/graphql', location.href).toString().replace(/^http/, 'ws'),
      lazy: true,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${token}` },
      on: { connected: () => options.onState({ kind: 'live' }) },
    });
    client.subscribe<T>(
      { query: options.query, variables: options.variables() },
      {
        next: (result) => {
          if (result.errors?.length) return stop(result.errors.map((e) => e.message).join('; '));
          failures = 0;
          if (result.data) options.onData(result.data);
        },
        error: (error) => dropped(error),
        complete: () => {
          const ended = options.onComplete?.() ?? null;
          if (ended !== null) stop(ended);
          else dropped(null);
        },
      },
    );
  };

  const dropped = (error: unknown) => {
    if (stopped) return;
    void client?.dispose();
    client = null;
    if (Array.isArray(error)) return stop((error as { message: string }[]).map((e) => e.message).join('; '));
    const code = closeCode(error);
    if (code !== null && FINAL_CLOSE[code]) return stop(FINAL_CLOSE[code]);
    failures += 1;
    const inSeconds = Math.min(30, 2 ** (failures - 1));
    const reason = code !== null ? `connection closed (${code})` : error ? 'connection failed' : 'subscription ended';
    options.onState({ kind: 'retrying', inSeconds, reason });
    timer = setTimeout(async () => {
      await options.beforeResubscribe?.().catch(() => {});
      if (!stopped) open();
    }, inSeconds * 1000);
  };

  open();
  return { stop: () => stop() };
}
