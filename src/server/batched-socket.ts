import type { Socket } from 'node:net';
import { WebSocket } from 'ws';

/** RFC 6455 §5.2: FIN set, opcode 1 (a text frame); a server's frames are not masked. */
const FIN_TEXT = 0x81;

/** The header of an unmasked frame whose payload is `length` bytes: 2 bytes, 4 with a 16-bit length, 10 with a 64-bit one. */
const headerLength = (length: number): number => (length < 126 ? 2 : length < 65_536 ? 4 : 10);

function writeHeader(target: Buffer, offset: number, length: number): number {
  target[offset] = FIN_TEXT;
  if (length < 126) {
    target[offset + 1] = length;
    return offset + 2;
  }
  if (length < 65_536) {
    target[offset + 1] = 126;
    target.writeUInt16BE(length, offset + 2);
    return offset + 4;
  }
  target[offset + 1] = 127;
  target.writeBigUInt64BE(BigInt(length), offset + 2);
  return offset + 10;
}

/**
 * The subscription socket's `ws` class (WebSocketServer's `WebSocket` option). The fan-out queues its `next`
 * messages here (`queueText`); they leave when the current run of microtasks ends, every message queued
 * meanwhile framed into ONE buffer and written in one call: one event for 20 subscriptions on a socket is one
 * system call and one allocation, not 20 of each. Whatever else is sent on the socket (graphql-ws's
 * `complete`, `error`, `pong`, a close) first writes what is queued, so messages leave in the order they
 * were made.
 *
 * The frames are written to ws's TCP socket (`_socket`: ws has no public handle), which keeps order with
 * ws's own writes because ws writes each frame at once: it queues frames only while compressing
 * (perMessageDeflate, off on this server) or reading a Blob (never sent here).
 */
export class BatchedSocket extends WebSocket {
  /** The queued messages, three parts each (start, middle, end), flat. */
  private queued: Buffer[] = [];

  /** Queues one text message: the bytes of `start`, `middle` and `end`, one after another. */
  queueText(start: Buffer, middle: Buffer, end: Buffer): void {
    if (!this.queued.length) queueMicrotask(() => this.flush());
    this.queued.push(start, middle, end);
  }

  override send(...args: unknown[]): void {
    this.flush();
    (super.send as (...args: unknown[]) => void)(...args);
  }

  override close(...args: unknown[]): void {
    this.flush();
    (super.close as (...args: unknown[]) => void)(...args);
  }

  private flush(): void {
    const parts = this.queued;
    if (!parts.length) return;
    this.queued = [];
    const tcp = (this as unknown as { _socket?: Socket })._socket;
    // As ws's own send does for a socket no longer open: nothing is written.
    if (this.readyState !== WebSocket.OPEN || !tcp || tcp.destroyed) return;
    const lengths: number[] = [];
    let total = 0;
    for (let i = 0; i < parts.length; i += 3) {
      const length = parts[i]!.length + parts[i + 1]!.length + parts[i + 2]!.length;
      lengths.push(length);
      total += headerLength(length) + length;
    }
    const frames = Buffer.allocUnsafe(total);
    let offset = 0;
    for (let i = 0; i < parts.length; i += 3) {
      offset = writeHeader(frames, offset, lengths[i / 3]!);
      for (let j = i; j < i + 3; j++) offset += parts[j]!.copy(frames, offset);
    }
    tcp.write(frames);
  }
}
