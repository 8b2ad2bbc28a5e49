import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { closeApp, migrate, openApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createCredentialSet } from '../src/credential-sets/store.js';
import { startRun } from '../src/runs/start.js';
import { createLogger } from '../src/log.js';
import { loadTokens, TokenStore } from '../src/server/auth.js';
import { startHttpServer, type HttpServer } from '../src/server/http.js';

export const TOKENS = {
  viewer: 'bench-viewer-token-0123456789abcdef',
  operator: 'bench-operator-token-0123456789abcdef',
  admin: 'bench-admin-token-0123456789abcdef',
};

/** Service logs go to stderr at BENCH_LOG_LEVEL (default error), so the figures stay readable. */
export const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'error';

export interface BenchService {
  app: App;
  http: HttpServer;
  url: string;
  close(): Promise<void>;
}

/** The real service in this process, as `spec-chain serve` builds it: migrations, queue, HTTP and WebSocket. */
export async function startService(databaseUrl: string, env: Record<string, string>, options: { supervise: boolean }): Promise<BenchService> {
  const config = loadConfig({
    PORT: '0',
    LOG_LEVEL,
    API_TOKENS: Object.entries(TOKENS)
      .map(([role, token]) => `${role}:${token}`)
      .join(','),
    ...env,
  });
  const log = createLogger(config.logLevel, process.stderr);
  const app = await openApp(config, log, databaseUrl, options);
  await migrate(app);
  const tokens = new TokenStore([]);
  await loadTokens(tokens, config);
  const http = await startHttpServer(app, tokens, { port: 0, host: '127.0.0.1' });
  return {
    app,
    http,
    url: http.url,
    close: async () => {
      await http.close();
      await closeApp(app);
    },
  };
}

/**
 * A real run row with its first events on a credential set whose secrets are never read: no workers run
 * in these benchmarks, so only what the benchmark itself writes follows.
 */
export async function benchRun(svc: BenchService, repository: string): Promise<string> {
  const { credentialSet } = await createCredentialSet(svc.app.ds, {
    name: 'bench',
    codexAuthRef: 'env:BENCH_CODEX_AUTH_UNUSED',
    githubTokenRef: 'env:BENCH_GITHUB_TOKEN_UNUSED',
    codexEnvironment: 'bench',
  });
  const { run } = await startRun(svc.app, { repository, featureId: '001-bench', credentialSetId: credentialSet!.id });
  return run!.id;
}

/** POST /graphql; GraphQL errors are thrown, so a benchmark never measures a failure as a success. */
export async function gql<T = any>(url: string, query: string, variables: Record<string, unknown>, token: string): Promise<T> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: unknown[] };
  if (body.errors?.length || !body.data) throw new Error(`GraphQL answered ${res.status}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

/** A graphql-ws client of `httpUrl`'s /graphql socket, signed in with the viewer token. */
export function wsClient(httpUrl: string): Client {
  return createClient({
    url: `${httpUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${TOKENS.viewer}` },
    retryAttempts: 0,
    lazy: true,
    // Keep an idle socket open a while, so a subscription right after another does not pay a new handshake.
    lazyCloseTimeout: 10_000,
  });
}

/** Subscriptions spread over sockets, at most `perSocket` on each, as browser tabs with a few panels would. */
export class SocketPool {
  private readonly clients: Client[] = [];
  private used = 0;

  constructor(
    private readonly httpUrl: string,
    private readonly perSocket = 20,
  ) {}

  /** The client the next subscription goes on. */
  next(): Client {
    if (this.used % this.perSocket === 0) this.clients.push(wsClient(this.httpUrl));
    this.used++;
    return this.clients.at(-1)!;
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.dispose()));
    this.clients.length = 0;
    this.used = 0;
  }
}
