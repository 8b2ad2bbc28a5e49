import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { BatchedSocket } from '../../src/server/batched-socket.js';
import { until } from '../support/until.js';

// BatchedSocket frames its queued messages itself: a real `ws` client on a real socket reads them, so a
// wrong length field or a message out of order fails here as it would in a browser.

let server: Server | null = null;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = null;
});

/** A WebSocketServer making BatchedSocket sockets, and a client connected to it. */
async function connect(): Promise<{ socket: BatchedSocket; client: WebSocket; received: string[]; closed: Promise<number> }> {
  server = createServer();
  const wss = new WebSocketServer({ server, perMessageDeflate: false, WebSocket: BatchedSocket } as ConstructorParameters<typeof WebSocketServer>[0]);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<BatchedSocket>((resolve) => wss.once('connection', (s) => resolve(s as BatchedSocket)));
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
  const received: string[] = [];
  client.on('message', (data, isBinary) => received.push(`${isBinary ? 'binary' : 'text'}:${data.toString()}`));
  const closed = new Promise<number>((resolve) => client.on('close', resolve));
  await new Promise((resolve) => client.once('open', resolve));
  return { socket: await accepted, client, received, closed };
}

test('queued messages of every length field (7-bit, 16-bit, 64-bit) arrive whole, as text, in order, before what is sent after them', async () => {
  const { socket, client, received } = await connect();
  // 125 and 126 are either side of the 7-bit limit, 65,535 and 65,536 of the 16-bit one; a multi-byte character counts its bytes.
  const lengths = [0, 1, 125, 126, 65_535, 65_536, 200_000];
  const texts = lengths.map((n, i) => (i === 3 ? 'é'.repeat(63) : String(i % 10).repeat(n)));
  expect(Buffer.byteLength(texts[3]!)).toBe(126);
  for (const text of texts) {
    const bytes = Buffer.from(text);
    // In three parts, as the fan-out queues a message's start, its shared payload and its end.
    socket.queueText(bytes.subarray(0, 1), bytes.subarray(1, Math.max(1, bytes.length - 1)), bytes.subarray(Math.max(1, bytes.length - 1)));
  }
  // A message ws sends itself goes after the queued ones, though it is sent before they are written.
  socket.send('after');
  await until(() => received.length === texts.length + 1, 'every message');
  expect(received).toEqual([...texts.map((t) => `text:${t}`), 'text:after']);
  client.close();
});

test('messages queued on a socket that closes before they are written are dropped, and the socket closes cleanly', async () => {
  const { socket, client, received, closed } = await connect();
  socket.queueText(Buffer.from('before '), Buffer.from('the '), Buffer.from('close'));
  socket.close(1000, 'bye');
  socket.queueText(Buffer.from('after '), Buffer.from('the '), Buffer.from('close'));
  expect(await closed).toBe(1000);
  // The first went out ahead of the close frame; the second was never written.
  expect(received).toEqual(['text:before the close']);
  expect(client.readyState).toBe(WebSocket.CLOSED);
});
