import pg from 'pg';
import type { Logger } from '../log.js';

type Handler = (payload: string) => void;

/**
 * One dedicated connection holding LISTEN for a process. When it drops it reconnects with backoff and
 * calls `onReconnect`, so callers catch up from the tables: a notification is a hint, never the data.
 */
export class Listener {
  private client: pg.Client | null = null;
  private readonly handlers = new Map<string, Set<Handler>>();
  private readonly reconnectHandlers = new Set<() => void>();
  private closed = false;
  private retryMs = 100;

  constructor(
    private readonly url: string,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.connect();
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

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, application_name: 'spec-chain-listener', keepAlive: true });
    client.on('notification', (n) => {
      for (const h of this.handlers.get(n.channel) ?? []) h(n.payload ?? '');
    });
    client.on('error', (err) => this.log.warn({ err: { message: err.message } }, 'listener connection error'));
    client.on('end', () => {
      if (this.client === client) this.client = null;
      if (!this.closed) this.scheduleReconnect();
    });
    await client.connect();
    for (const channel of this.handlers.keys()) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    this.client = client;
    this.retryMs = 100;
  }

  private scheduleReconnect(): void {
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, 5000);
    setTimeout(async () => {
      if (this.closed) return;
      try {
        await this.connect();
        this.log.info('listener reconnected');
        for (const h of this.reconnectHandlers) h();
      } catch (err) {
        this.log.warn({ err: { message: (err as Error).message }, retryInMs: this.retryMs }, 'listener reconnect failed');
        this.scheduleReconnect();
      }
    }, delay).unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }
}
