import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { App } from '../app.js';
import { isUuid } from '../interfaces.js';
import { buildAppSchema } from '../schema/build.js';
import { BODY_LIMIT_BYTES } from '../config.js';
import type { Principal, TokenStore } from './auth.js';
import { errorHandler, notFound, publicGraphqlError, sendError, type ErrorExposure } from './errors.js';
import { graphqlLimits } from './graphql-limits.js';
import { securityHeaders } from './headers.js';
import { startSubscriptionSocket } from './socket.js';
import { createContext, type ApiServices, type Context } from './context.js';
import { WEB_DIR } from './paths.js';
import { RunFeed } from '../runs/feed.js';
import { artifactChunks } from '../runs/artifacts.js';
import { findArtifact } from '../runs/db/artifacts.js';
import { basename, join } from 'node:path';
import { createMetrics, mayScrape } from './metrics.js';
import { SOURCE_ARGUMENTS } from '../resolvers/RunSubscriptionResolver.js';
import { SharedFanout } from './fanout.js';

export interface HttpServer {
  url: string;
  port: number;
  server: Server;
  /** Pushes committed transitions to this process's subscribers. */
  feed: RunFeed;
  /** Executes and serialises subscription events once per distinct subscription. */
  fanout: SharedFanout;
  close(): Promise<void>;
}

export { CLOSE } from './socket.js';

function unauthorized(res: Response): void {
  res.set('WWW-Authenticate', 'Bearer realm="spec-chain"');
  sendError(res, 401, 'UNAUTHENTICATED', 'Missing or invalid bearer token: send Authorization: Bearer <token>.');
}

/** The address a client on this machine uses for a server listening on `host:port`. */
export function localUrl(host: string, port: number): string {
  const local = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `http://${local}:${port}`;
}

/** A handler served below a path prefix of the main port (the sandbox's emulators); the prefix is removed from `req.url`. */
export type Mounted = (req: IncomingMessage, res: ServerResponse) => void;

/** One HTTP port: GraphQL over HTTP and WebSocket, GraphiQL, health and readiness. */
export async function startHttpServer(
  app: App,
  tokens: TokenStore,
  options: { port: number; host: string; mounts?: Record<string, Mounted> },
): Promise<HttpServer> {
  const schema = await buildAppSchema();
  const feed = new RunFeed(app.db, app.databaseUrl, app.log);
  await feed.start();
  const services: ApiServices = { config: app.config, log: app.log, ds: app.ds, db: app.db, boss: app.boss, feed };
  const web = express();
  const server = createServer(web);
  const exposure: ErrorExposure = { debug: app.config.debugErrors, log: app.log };
  const limits = graphqlLimits(app.config.graphqlLimits);
  // Each subscription event executed and serialised once per distinct subscription, whatever the viewers.
  const fanout = new SharedFanout(exposure, SOURCE_ARGUMENTS);
  const socket = startSubscriptionSocket({
    server,
    schema,
    tokens,
    limits,
    socketLimits: app.config.socketLimits,
    exposure,
    log: app.log,
    context: (principal): Context => createContext(services, principal),
    fanout,
  });

  const apollo = new ApolloServer<Context>({
    schema,
    introspection: true,
    // Apollo would stop itself on SIGINT/SIGTERM and then re-raise the signal, killing the process before
    // the queue, the database and the embedded PostgreSQL are stopped; start.ts shuts down in order.
    stopOnTerminationSignals: false,
    parseOptions: limits.parseOptions,
    validationRules: limits.validationRules,
    includeStacktraceInErrorResponses: app.config.debugErrors,
    formatError: (formatted, error) => publicGraphqlError(formatted, error, exposure),
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer: server }), ApolloServerPluginLandingPageDisabled()],
    logger: {
      debug: (m) => app.log.debug(m),
      info: (m) => app.log.info(m),
      warn: (m) => app.log.warn(m),
      error: (m) => app.log.error(m),
    },
  });
  await apollo.start();

  web.disable('x-powered-by');
  web.use(securityHeaders());

  // One log line per request: method, path, status, time, role; never headers or bodies.
  web.use((req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      app.log.info(
        { method: req.method, path: req.originalUrl.split('?')[0], status: res.statusCode, ms: Math.round(ms * 10) / 10, op: (req.body as { operationName?: string } | undefined)?.operationName },
        'request',
      );
    });
    next();
  });

  web.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  web.get('/readyz', async (_req, res) => {
    const checks: Record<string, string> = {};
    const probe = async (name: string, fn: () => Promise<unknown>) => {
      try {
        await Promise.race([fn(), new Promise((_, reject) => setTimeout(() => reject(new Error('timed out after 2 s')), 2000))]);
        checks[name] = 'ok';
      } catch (e) {
        checks[name] = (e as Error).message || 'unreachable';
      }
    };
    await probe('database', () => app.ds.query('SELECT 1'));
    await probe('queue', async () => {
      if (!(await app.boss.isInstalled())) throw new Error('pg-boss schema not installed');
    });
    const ready = Object.values(checks).every((v) => v === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
  });

  web.use(
    '/graphql',
    // The token first: nothing of a request without one is read.
    (req: Request, res: Response, next: NextFunction) => {
      const principal = tokens.authenticate(req.headers.authorization);
      if (!principal) return unauthorized(res);
      res.locals.principal = principal;
      next();
    },
    express.json({ limit: BODY_LIMIT_BYTES }),
    expressMiddleware(apollo, { context: async ({ res }) => createContext(services, res.locals.principal as Principal) }),
  );

  // Prometheus text; database figures are read at scrape time, so every serve process reports the same totals.
  const metrics = createMetrics(app.db, feed);
  web.get('/metrics', async (req: Request, res: Response) => {
    if (!mayScrape(tokens, app.config.metricsToken, req.headers.authorization)) return unauthorized(res);
    try {
      const body = await metrics.metrics();
      res.status(200).set('content-type', metrics.contentType).send(body);
    } catch (err) {
      app.log.warn({ err: { message: (err as Error).message } }, 'metrics scrape failed');
      res.status(503).type('text/plain').send('metrics unavailable: the database could not be read\n');
    }
  });

  // Stored artifacts (patch, logs, conflict report …): the same bearer token as the API, viewer role.
  web.get('/artifacts/:runId/:artifactId', async (req: Request, res: Response) => {
    if (!tokens.authenticate(req.headers.authorization)) return unauthorized(res);
    const [runId, artifactId] = [String(req.params.runId), String(req.params.artifactId)];
    const artifact = isUuid(runId) && isUuid(artifactId) ? await findArtifact(app.db, runId, artifactId) : null;
    if (!artifact || /^https?:\/\//.test(artifact.location)) {
      sendError(res, 404, 'NOT_FOUND', 'No stored artifact with that id for that run.');
      return;
    }
    if (!artifact.stored) {
      sendError(res, 410, 'GONE', 'The artifact was recorded by an older version whose file was not found when its folder was imported.');
      return;
    }
    // Streamed chunk by chunk from PostgreSQL, waiting for the client to take each one.
    res
      .status(200)
      .set('content-type', artifact.contentType ?? 'application/octet-stream')
      .set('content-length', String(artifact.size ?? 0))
      .set('content-disposition', `attachment; filename="${basename(artifact.location)}"`)
      .set('x-content-type-options', 'nosniff');
    if (artifact.sha256) res.set('etag', `"${artifact.sha256}"`);
    try {
      for await (const chunk of artifactChunks(app.db, artifact.id)) {
        if (!res.write(chunk)) await once(res, 'drain');
      }
      res.end();
    } catch (err) {
      app.log.warn({ artifactId: artifact.id, err: { message: (err as Error).message } }, 'artifact download cut short');
      res.destroy();
    }
  });

  // The run pages are one built page; the browser reads the run id from the path.
  web.get(['/runs', '/runs/:runId'], (_req, res) => {
    res.sendFile(join(WEB_DIR, 'runs.html'), (err) => {
      if (err) sendError(res, 404, 'NOT_FOUND', 'The run pages are not built: run npm run build.');
    });
  });

  for (const [prefix, handler] of Object.entries(options.mounts ?? {})) web.use(prefix, (req, res) => handler(req, res));

  web.use(express.static(WEB_DIR, { index: 'index.html', fallthrough: true }));
  web.use(notFound);
  web.use(errorHandler(exposure));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  // Longer than clients' idle keep-alive, so the server never closes a socket a client is about to reuse.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const { port } = server.address() as { port: number };
  return {
    url: localUrl(options.host, port),
    port,
    server,
    feed,
    fanout,
    close: async () => {
      await socket.close();
      await feed.stop();
      await apollo.stop();
      server.closeAllConnections();
    },
  };
}
