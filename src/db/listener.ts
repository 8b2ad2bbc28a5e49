import pg from 'pg';
import type { Logger } from '../log.js';

type Handler = (payload: string) => void;

const FIRST_RETRY_MS = 100;
const LONGEST_RETRY_MS = 5000;
/** A connect that gets no answer (a server stopping or starting under load) is given up and tried again. */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * One dedicated connection holding LISTEN for a process, whatever happens to the database. A single
 * reconnect loop owns it: when the connection ends (or a connect fails) the old client is always ended,
 * the loop waits with backoff and jitter, connects one new client, and calls `onReconnect` so callers
 * catch up from the tables: a notification is a hint, never the data.
 */
export class Listener {
  private client: pg.Client | null = null;
  private readonly handlers = new Map<string, Set<Handler>>();
  private readonly reconnectHandlers = new Set<() => void>();
  private closed = false;
  /** The one running reconnect loop, if any: a second drop while it runs joins it. */
  private reconnecting: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;
  /** Clients that ended before they became the current one: a connect that lost its connection on the way. */
  private readonly lost = new WeakSet<pg.Client>();

  constructor(
    private readonly url: string,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    this.client = this.alive(await this.connect());
  }

  on(channel: string, handler: Handler): () => void {
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      void this.client?.query(`LISTEN ${pg.escapeIdentifier(channel)}`).catch(() => {});
    }
    set.add(handler);
    return () => set.delete(handler);
  }

  onReconnect(handler: () => void): () => void {
    this.reconnectHandlers.add(handler);
    return () => this.reconnectHandlers.delete(handler);
  }

  /** Connections this listener holds open right now (0 or 1): what the fault tests count. */
  get connections(): number {
    return this.client ? 1 : 0;
  }

  /** Connects one client with every LISTEN in place; a client that fails on the way is ended, never kept. */
  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.url, application_name: 'spec-chain-listener', keepAlive: true, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    client.on('notification', (n) => {
      for (const h of this.handlers.get(n.channel) ?? []) h(n.payload ?? '');
    });
    client.on('error', (err) => {
      this.log.warn({ err: { message: err.message } }, 'listener connection error');
      this.dropped(client);
    });
    client.on('end', () => this.dropped(client));
    try {
      await client.connect();
      for (const channel of this.handlers.keys()) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      return client;
    } catch (err) {
      client.removeAllListeners('end');
      await client.end().catch(() => {});
      throw err;
    }
  }

  /** The current client went away: end it for good and start the reconnect loop unless one runs. */
  private dropped(client: pg.Client): void {
    if (this.client !== client) {
      // Not current yet: whoever is connecting it finds it lost and tries again.
      this.lost.add(client);
      return;
    }
    this.client = null;
    void client.end().catch(() => {});
    if (!this.closed) this.reconnecting ??= this.reconnect().finally(() => (this.reconnecting = null));
  }

  private async reconnect(): Promise<void> {
    for (let failures = 0; !this.closed; failures++) {
      const base = Math.min(FIRST_RETRY_MS * 2 ** failures, LONGEST_RETRY_MS);
      await this.sleep(base * (0.5 + Math.random()));
      if (this.closed) return;
      try {
        const client = this.alive(await this.connect());
        if (this.closed) {
          await client.end().catch(() => {});
          return;
        }
        this.client = client;
        this.log.info({ failures }, 'listener reconnected');
        for (const h of this.reconnectHandlers) h();
        return;
      } catch (err) {
        this.log.warn({ err: { message: (err as Error).message }, failures: failures + 1 }, 'listener reconnect failed');
      }
    }
  }

  /**
   * The connection may have ended between its connect and now (the database restarting again): such a
   * client never becomes current, or nothing would notice it is gone and the listener would stay deaf.
   */
  private alive(client: pg.Client): pg.Client {
    if (!this.lost.has(client)) return client;
    void client.end().catch(() => {});
    throw new Error('the listener connection ended as it was being set up');
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
      this.timer.unref();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
    await this.reconnecting;
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }
}
