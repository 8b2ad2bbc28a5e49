import type { Server } from 'node:http';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { BODY_LIMIT_BYTES, SOCKET_INIT_LIMIT_BYTES, type Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Principal, TokenStore } from './auth.js';
import { publicGraphqlError, publicResult, type ErrorExposure } from './errors.js';
import { BatchedSocket } from './batched-socket.js';
import type { SharedFanout } from './fanout.js';
import type { GraphqlLimits } from './graphql-limits.js';

/**
 * Close codes of the subscription socket, with the reason the client sees. Refusals of a limit use the
 * protocol's own codes (1008 policy, 1009 too big), which graphql-ws clients do not retry.
 */
export const CLOSE = {
  UNAUTHORIZED: { code: 4401, reason: 'Unauthorized: connection_init needs { authorization: "Bearer <token>" } with a valid token' },
  FORBIDDEN: { code: 4403, reason: 'Forbidden: the token lacks the viewer role' },
  REVOKED: { code: 4401, reason: 'Unauthorized: the token was revoked' },
  SHUTDOWN: { code: 1001, reason: 'Server shutting down' },
  /** ws itself closes with 1009 (no reason) on a frame over BODY_LIMIT_BYTES, before reading it. */
  INIT_TOO_BIG: { code: 1009, reason: `Message too big: at most ${SOCKET_INIT_LIMIT_BYTES} bytes before connection_ack` },
  TOO_MANY_SOCKETS: { code: 1008, reason: 'Too many sockets for this token (WS_MAX_SOCKETS_PER_TOKEN)' },
  TOO_MANY_SUBSCRIPTIONS: { code: 1008, reason: 'Too many subscriptions on this socket (WS_MAX_SUBSCRIPTIONS_PER_SOCKET)' },
} as const;

export interface SubscriptionSocket {
  close(): Promise<void>;
}

const sizeOf = (data: RawData): number => (Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data instanceof ArrayBuffer ? data.byteLength : data.length);

/**
 * GraphQL over WebSocket on `/graphql` (graphql-ws): a token in connection_init, the same document limits
 * as HTTP, a message limit (the HTTP body limit; 16 KB until the connection is acknowledged), and caps on
 * sockets per token and subscriptions per socket. A revoked token loses its sockets at once.
 */
export function startSubscriptionSocket<C extends object>(options: {
  server: Server;
  schema: GraphQLSchema;
  tokens: TokenStore;
  limits: GraphqlLimits;
  socketLimits: Config['socketLimits'];
  exposure: ErrorExposure;
  log: Logger;
  context: (principal: Principal) => C;
  /** Executes and serialises each event once per distinct subscription (src/server/fanout.ts). */
  fanout: SharedFanout;
}): SubscriptionSocket {
  const { tokens, limits, socketLimits, log } = options;
  // maxPayload: ws reads a frame's length first and closes (1009) before buffering a larger one.
  // closeTimeout: how long a closed socket waits for the peer's close before it is ended; a refused peer
  // may never send one, and a shutdown waits for it.
  // (@types/ws 8.18 does not know ws 8.23's closeTimeout yet.)
  // perMessageDeflate stays off: BatchedSocket's frames keep their order with ws's own only while ws does not compress.
  const serverOptions = {
    server: options.server,
    path: '/graphql',
    maxPayload: BODY_LIMIT_BYTES,
    closeTimeout: 5_000,
    perMessageDeflate: false,
    WebSocket: BatchedSocket,
  };
  const wss = new WebSocketServer(serverOptions);
  const principals = new WeakMap<object, Principal>();
  const sockets = new Map<WebSocket, Principal>();
  const beforeAck = new WeakMap<WebSocket, (data: RawData) => void>();

  // Registered before graphql-ws's own listener, so this sees each message first.
  wss.on('connection', (socket, request) => {
    const guard = (data: RawData) => {
      if (sizeOf(data) > SOCKET_INIT_LIMIT_BYTES) socket.close(CLOSE.INIT_TOO_BIG.code, CLOSE.INIT_TOO_BIG.reason);
    };
    beforeAck.set(socket, guard);
    socket.on('message', guard);
    // On a refused frame ws sends the close (1009), then would read on, discarding, until the peer's close
    // arrives behind the rest of its frame. Read nothing more of such a peer: the close then our FIN go out,
    // and ws's close timer ends the socket.
    socket.on('error', () =>
      setImmediate(() => {
        request.socket.pause();
        request.socket.end();
      }),
    );
  });

  tokens.onChange(() => {
    for (const [socket, principal] of sockets) {
      if (!tokens.stillValid(principal)) socket.close(CLOSE.REVOKED.code, CLOSE.REVOKED.reason);
    }
  });

  const refuse = (socket: WebSocket, close: { code: number; reason: string }): false => {
    socket.close(close.code, close.reason);
    return false;
  };

  const graphqlWs = useServer<Record<string, unknown>, { principal?: Principal }>(
    {
      schema: options.schema,
      // Otherwise graphql-ws puts an internal error's message into the close reason outside NODE_ENV=production.
      isProd: !options.exposure.debug,
      onConnect: (ctx) => {
        const socket = ctx.extra.socket;
        if (socket.readyState !== socket.OPEN) return false;
        const principal = tokens.authenticate(ctx.connectionParams?.authorization);
        if (!principal) return refuse(socket, CLOSE.UNAUTHORIZED);
        const open = [...sockets.values()].filter((p) => p.tokenHash === principal.tokenHash).length;
        if (open >= socketLimits.maxSocketsPerToken) {
          log.warn({ transport: 'ws', token: principal.tokenId, open }, 'subscription socket refused: too many for the token');
          return refuse(socket, CLOSE.TOO_MANY_SOCKETS);
        }
        socket.off('message', beforeAck.get(socket)!);
        principals.set(ctx.extra, principal);
        sockets.set(socket, principal);
        socket.once('close', () => sockets.delete(socket));
        log.info({ transport: 'ws', role: principal.role, token: principal.tokenId }, 'subscription connection');
        return true;
      },
      // Parsed and validated here rather than by graphql-ws, so a refused document is an error message
      // for its subscription id (as over HTTP), not a failure of the socket.
      onSubscribe: (ctx, _id, payload) => {
        if (Object.keys(ctx.subscriptions).length > socketLimits.maxSubscriptionsPerSocket) {
          ctx.extra.socket.close(CLOSE.TOO_MANY_SUBSCRIPTIONS.code, CLOSE.TOO_MANY_SUBSCRIPTIONS.reason);
          return [new GraphQLError(CLOSE.TOO_MANY_SUBSCRIPTIONS.reason)];
        }
        let document;
        try {
          document = limits.parse(payload.query);
        } catch (e) {
          if (e instanceof GraphQLError) return [e];
          throw e;
        }
        const errors = limits.validate(options.schema, document);
        if (errors.length) return [...errors];
        return { schema: options.schema, document, operationName: payload.operationName, variableValues: payload.variables };
      },
      // A subscription's events are executed, made public and written by the fan-out; this sees the
      // results of queries and mutations sent over the socket.
      subscribe: options.fanout.subscribe,
      onNext: (_ctx, _id, _payload, _args, result) => publicResult(result, options.exposure),
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => publicGraphqlError(e.toJSON(), e, options.exposure)),
      context: (ctx, id) => {
        const context = options.context(principals.get(ctx.extra)!);
        options.fanout.route(context, ctx.extra.socket, id);
        return context;
      },
    },
    wss,
  );

  return {
    close: async () => {
      for (const client of wss.clients) client.close(CLOSE.SHUTDOWN.code, CLOSE.SHUTDOWN.reason);
      await graphqlWs.dispose();
    },
  };
}
