import { Writable } from 'node:stream';
import { createLogger } from '../../src/log.js';
import { loadConfig, type Config } from '../../src/config.js';
import { closeApp, migrate, openApp, type App } from '../../src/app.js';
import { loadTokens, TokenStore } from '../../src/server/auth.js';
import { startHttpServer, type HttpServer } from '../../src/server/http.js';

export const TOKENS = {
  viewer: 'viewer-token-0123456789abcdef',
  operator: 'operator-token-0123456789abcdef',
  admin: 'admin-token-0123456789abcdef0000',
};

export interface TestService {
  app: App;
  http: HttpServer;
  /** The tokens this serve accepts (reload them as SIGHUP does with loadTokens). */
  tokens: TokenStore;
  url: string;
  config: Config;
  close(): Promise<void>;
}

/** The real service (migrations, queue, HTTP and WebSocket) on a free port, against the given database. */
export async function startService(
  databaseUrl: string,
  env: Record<string, string> = {},
  options: { logLines?: string[] } = {},
): Promise<TestService> {
  const config = loadConfig({
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    API_TOKENS: Object.entries(TOKENS)
      .map(([role, token]) => `${role}:${token}`)
      .join(','),
    DATA_DIR: '.data/test',
    ...env,
  });
  const lines = options.logLines;
  const log = createLogger(config.logLevel, lines ? new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }) : undefined);
  // Tokens first, as `serve` does: a bad API_TOKENS_FILE stops start-up before anything is opened.
  const tokens = new TokenStore([]);
  await loadTokens(tokens, config);
  const app = await openApp(config, log, databaseUrl, { supervise: false });
  await migrate(app);
  const http = await startHttpServer(app, tokens, { port: 0, host: '127.0.0.1' });
  return {
    app,
    http,
    tokens,
    url: http.url,
    config,
    close: async () => {
      await http.close();
      await closeApp(app);
    },
  };
}

/** POST /graphql as a client would, returning status and body. */
export async function gql(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  token: string | null = TOKENS.admin,
): Promise<{ status: number; body: { data?: any; errors?: any[] } }> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as { data?: any; errors?: any[] } };
}
