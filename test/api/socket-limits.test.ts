import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort } from '../../src/db/embedded.js';
import { GRAPHQL_TRANSPORT_WS_PROTOCOL } from 'graphql-ws';
import { exited, spawnCli } from '../support/processes.js';
import { createTestDatabase } from '../support/database.js';
import { startService, TOKENS, type TestService } from '../support/service.js';

// Issue 10, finding 2: the subscription socket reads no large message before (or after) the token check,
// and caps sockets per token and subscriptions per socket, each refusal with a close code and reason.

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let svc: TestService;

beforeAll(async () => {
  db = await createTestDatabase();
  svc = await startService(db.url, { WS_MAX_SOCKETS_PER_TOKEN: '3', WS_MAX_SUBSCRIPTIONS_PER_SOCKET: '3' });
});
afterAll(async () => {
  await svc?.close();
  await db?.drop();
});

interface Closed {
  code: number;
  reason: string;
}

/** A raw graphql-transport-ws socket, to send what a well-behaved client never would. */
async function rawSocket(url: string): Promise<{ ws: WebSocket; closed: Promise<Closed>; messages: any[] }> {
  // A refused peer that is still sending gets the close and the server's FIN, but its own close waits
  // behind what it has not sent yet: give up after a second, as its close code has arrived by then.
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/graphql`, GRAPHQL_TRANSPORT_WS_PROTOCOL, { closeTimeout: 1000 });
  const messages: any[] = [];
  ws.on('message', (data) => messages.push(JSON.parse(String(data))));
  // The server may close while a large frame is still being written: that error is the refusal.
  ws.on('error', () => {});
  const closed = new Promise<Closed>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, closed, messages };
}

async function connected(url: string, token = TOKENS.viewer) {
  const socket = await rawSocket(url);
  socket.ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
  await expect.poll(() => socket.messages.map((m) => m.type)).toContain('connection_ack');
  return socket;
}

const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

describe('message size', () => {
  let serve: ChildProcess & { output: () => string };
  let url: string;
  beforeAll(async () => {
    // A serve process of its own, so its RSS is the server's alone.
    const port = await freePort();
    serve = spawnCli('serve', { DATABASE_URL: db.url, PORT: String(port), LOG_LEVEL: 'warn', DATA_DIR: '.data/test' });
    url = `http://127.0.0.1:${port}`;
    for (let i = 0; !(await fetch(`${url}/readyz`).then((r) => r.ok, () => false)); i++) {
      if (i > 300) throw new Error(`serve did not become ready: ${serve.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  afterAll(async () => {
    serve?.kill('SIGTERM');
    if (serve) await exited(serve);
  });

  test('five 90 MB connection_init frames are refused (1009) without the server growing', async () => {
    const before = rssOf(serve.pid!);
    const big = Buffer.alloc(90 * 1024 * 1024, 'a');
    big.write('{"type":"connection_init","payload":{"x":"');
    big.write('"}}', big.length - 3);
    for (let i = 0; i < 5; i++) {
      const { ws, closed } = await rawSocket(url);
      ws.send(big);
      expect((await closed).code).toBe(1009);
    }
    const after = rssOf(serve.pid!);
    // Reading one such frame would add 90 MB at least; five, as the issue measured, 1.1 GB.
    expect(after - before).toBeLessThan(40 * 1024 * 1024);
    // The server still serves.
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  }, 120_000);

  test('before connection_ack a message over 16 KB closes the socket with 1009 and the reason', async () => {
    const { ws, closed, messages } = await rawSocket(url);
    ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${TOKENS.viewer}`, pad: 'x'.repeat(20_000) } }));
    expect(await closed).toEqual({ code: 1009, reason: 'Message too big: at most 16384 bytes before connection_ack' });
    expect(messages.map((m) => m.type)).not.toContain('connection_ack');
  });

  test('after connection_ack a message up to the HTTP body limit is read; one over it is refused with 1009', async () => {
    const socket = await connected(url);
    const query = `{ me { role } } #${'x'.repeat(100_000)}`;
    socket.ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
    await expect.poll(() => socket.messages.find((m) => m.id === '1' && m.type === 'next')?.payload.data.me.role).toBe('viewer');
    socket.ws.send(Buffer.alloc(3 * 1024 * 1024, ' '));
    expect((await socket.closed).code).toBe(1009);
  });
});

describe('caps', () => {
  test('a token holds at most WS_MAX_SOCKETS_PER_TOKEN sockets: the next is closed with 1008 and the reason', async () => {
    const open = await Promise.all([1, 2, 3].map(() => connected(svc.url)));
    const extra = await rawSocket(svc.url);
    extra.ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${TOKENS.viewer}` } }));
    expect(await extra.closed).toEqual({ code: 1008, reason: 'Too many sockets for this token (WS_MAX_SOCKETS_PER_TOKEN)' });
    // Another token is counted apart, and a closed socket frees its place.
    const other = await connected(svc.url, TOKENS.operator);
    open[0]!.ws.close();
    await open[0]!.closed;
    const again = await connected(svc.url);
    for (const s of [...open.slice(1), other, again]) s.ws.close();
    await Promise.all([...open.slice(1), other, again].map((s) => s.closed));
  });

  test('a socket holds at most WS_MAX_SUBSCRIPTIONS_PER_SOCKET subscriptions: the next closes it with 1008', async () => {
    const socket = await connected(svc.url);
    const subscribe = (id: string, query = 'subscription { runsUpdated { id } }') => socket.ws.send(JSON.stringify({ id, type: 'subscribe', payload: { query } }));
    subscribe('a');
    subscribe('b');
    // A query is an operation of the socket too while it runs: the third of three is answered…
    subscribe('q', '{ me { role } }');
    await expect.poll(() => socket.messages.some((m) => m.id === 'q' && m.type === 'complete')).toBe(true);
    expect(socket.messages.find((m) => m.id === 'q' && m.type === 'next').payload.data.me.role).toBe('viewer');
    // …and once it is done its place is free again: a, b, c are three, d is one too many.
    subscribe('c');
    subscribe('d');
    expect(await socket.closed).toEqual({ code: 1008, reason: 'Too many subscriptions on this socket (WS_MAX_SUBSCRIPTIONS_PER_SOCKET)' });
  });
});
