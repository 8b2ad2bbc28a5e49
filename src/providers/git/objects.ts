import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { FailureCode } from '../../interfaces.js';
import { transient } from '../errors.js';
import { countGitProcess, FIXED_CONFIG_ARGS, gitEnvironment } from './exec.js';

/** An object of the cache as `cat-file` reports it; `missing` when this machine does not hold it. */
export type ObjectInfo = { missing: true } | { missing: false; oid: string; type: 'blob' | 'tree' | 'commit' | 'tag'; size: number };

/** One entry of a tree object. */
export interface TreeEntry {
  mode: string;
  name: string;
  oid: string;
}

interface Waiting {
  /** The response's body is read only for `contents`. */
  withBody: boolean;
  resolve(value: { info: ObjectInfo; body?: Buffer }): void;
  reject(error: Error): void;
}

/**
 * One long-lived `git cat-file --batch-command` per cache and process: discover, the patch checks and
 * conflict reports read commits, trees and blobs through it, so reading costs no git process per run.
 * It runs with no promisor remote configured: a blob this machine does not hold is answered `missing`
 * at once (a lazy fetch would need the run's token, and git 2.39 dies when one fails), and the caller
 * fetches it with the run's credentials (cache.ts `ensureObjects`). Objects that other processes add
 * (a fetch, a commit) are found: git looks for new packs when an object is not in the ones it knows.
 */
export class ObjectReader {
  private child: ChildProcessWithoutNullStreams | undefined;
  private readonly waiting: Waiting[] = [];
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  /** Bytes the answer being read needs before it can be parsed further. */
  private needed = 0;
  /** Immutable by their ids, so any number of runs can share them. */
  private readonly trees = new Map<string, TreeEntry[]>();
  private idle: NodeJS.Timeout | undefined;

  constructor(
    private readonly cache: string,
    private readonly bin: string,
  ) {}

  /** Type and size, or missing; accepts an object id or a full ref name. */
  async info(name: string): Promise<ObjectInfo> {
    return (await this.ask(`info ${checkName(name)}`, false)).info;
  }

  /** The object's bytes, or null when this machine does not hold it. */
  async contents(oid: string): Promise<{ type: string; body: Buffer } | null> {
    const { info, body } = await this.ask(`contents ${checkName(oid)}`, true);
    return info.missing ? null : { type: info.type, body: body! };
  }

  /** A commit's tree id, or null when the commit is not here. */
  async commitTree(commitOid: string): Promise<string | null> {
    const commit = await this.contents(commitOid);
    if (!commit || commit.type !== 'commit') return null;
    return /^tree ([0-9a-f]+)$/m.exec(commit.body.toString('latin1'))?.[1] ?? null;
  }

  /** The entries of a tree object (trees are always in the cache: it fetches everything but blobs). */
  async tree(oid: string): Promise<TreeEntry[]> {
    const known = this.trees.get(oid);
    if (known) return known;
    const tree = await this.contents(oid);
    if (!tree || tree.type !== 'tree') throw transient(FailureCode.INTERNAL, `The clone cache ${this.cache} lacks tree ${oid}; fetching the base again should bring it.`);
    const entries = parseTree(tree.body, oid.length / 2);
    if (this.trees.size > 10_000) this.trees.clear();
    this.trees.set(oid, entries);
    return entries;
  }

  /** CPU the reader's git has used so far (ms), from /proc; 0 when it is not running or not on Linux. */
  cpuMs(): number {
    const pid = this.child?.pid;
    if (!pid) return 0;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime and stime, in clock ticks of 1/100 s.
      return (Number(fields[11]) + Number(fields[12])) * 10;
    } catch {
      return 0;
    }
  }

  /** Stops the reader (the next request starts a new one). */
  close(): void {
    this.child?.stdin.end();
    this.child = undefined;
  }

  private ask(command: string, withBody: boolean): Promise<{ info: ObjectInfo; body?: Buffer }> {
    clearTimeout(this.idle);
    const child = this.connect();
    return new Promise((resolve, reject) => {
      this.waiting.push({ withBody, resolve, reject });
      // stdout is what keeps the service waiting for the answer; it is let go again when nothing is asked.
      if (this.waiting.length === 1) (child.stdout as unknown as { ref(): void }).ref?.();
      child.stdin.write(`${command}\n`);
    });
  }

  private connect(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child;
    countGitProcess();
    // Started once per cache and process, so it is spawned here directly rather than through the launcher.
    const child = spawn(this.bin, [...FIXED_CONFIG_ARGS, 'cat-file', '--batch-command'], {
      cwd: this.cache,
      env: gitEnvironment(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child = child;
    this.buffered = [];
    this.bufferedBytes = 0;
    this.needed = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      this.buffered.push(chunk);
      this.bufferedBytes += chunk.length;
      if (this.bufferedBytes >= this.needed) this.drain();
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-2000)));
    child.stdin.on('error', () => {});
    const stop = (why: string) => {
      if (this.child === child) this.child = undefined;
      const error = transient(FailureCode.INTERNAL, `Reading objects of ${this.cache} stopped: ${why}${stderr ? `: ${stderr.trim()}` : ''}`);
      for (const waiting of this.waiting.splice(0)) waiting.reject(error);
    };
    child.on('error', (e) => stop(e.message));
    child.on('close', (code, signal) => stop(`git cat-file ended (${signal ?? `exit ${code}`})`));
    child.unref();
    (child.stdout as unknown as { unref(): void }).unref?.();
    (child.stderr as unknown as { unref(): void }).unref?.();
    (child.stdin as unknown as { unref(): void }).unref?.();
    return child;
  }

  /** Answers the waiting requests, in order, from what cat-file has printed so far. */
  private drain(): void {
    while (this.waiting.length && this.bufferedBytes > 0) {
      const data = this.flatten();
      const eol = data.indexOf(0x0a);
      if (eol < 0) {
        this.needed = data.length + 1;
        return;
      }
      const next = this.waiting[0]!;
      const parts = data.subarray(0, eol).toString('latin1').split(' ');
      let info: ObjectInfo;
      let consumed = eol + 1;
      let body: Buffer | undefined;
      if (parts[1] === 'missing' || parts[1] === 'ambiguous') info = { missing: true };
      else {
        const size = Number(parts[2]);
        info = { missing: false, oid: parts[0]!, type: parts[1] as 'blob', size };
        if (next.withBody) {
          // The body, then a newline: wait until all of it is here before copying anything.
          if (data.length < consumed + size + 1) {
            this.needed = consumed + size + 1;
            return;
          }
          body = Buffer.from(data.subarray(consumed, consumed + size));
          consumed += size + 1;
        }
      }
      this.needed = 0;
      this.waiting.shift();
      const rest = data.subarray(consumed);
      this.buffered = rest.length ? [rest] : [];
      this.bufferedBytes = rest.length;
      if (!this.waiting.length) {
        (this.child?.stdout as unknown as { unref(): void } | undefined)?.unref?.();
        // A cache nobody reads for a while (a repository no run works on now) gives its process back.
        this.idle = setTimeout(() => this.waiting.length === 0 && this.close(), IDLE_MS).unref();
      }
      next.resolve({ info, body });
    }
  }

  /** Everything printed so far as one buffer (copied only when it arrived in pieces). */
  private flatten(): Buffer {
    if (this.buffered.length === 1) return this.buffered[0]!;
    const all = Buffer.concat(this.buffered);
    this.buffered = [all];
    return all;
  }
}

/** Names go to cat-file one per line: an id or a ref name, never anything with a space or newline in it. */
function checkName(name: string): string {
  if (!/^[0-9a-f]{40}(?:[0-9a-f]{24})?$|^refs\/[^\s]+$/.test(name)) throw new TypeError(`"${name}" is not an object id or a ref name.`);
  return name;
}

/** Tree objects are `<mode> <name>\0<raw id>` repeated. */
export function parseTree(body: Buffer, idBytes: number): TreeEntry[] {
  const entries: TreeEntry[] = [];
  let at = 0;
  while (at < body.length) {
    const space = body.indexOf(0x20, at);
    const nul = body.indexOf(0x00, space);
    const mode = body.subarray(at, space).toString('latin1').padStart(6, '0');
    const name = body.subarray(space + 1, nul).toString('utf8');
    const oid = body.subarray(nul + 1, nul + 1 + idBytes).toString('hex');
    entries.push({ mode, name, oid });
    at = nul + 1 + idBytes;
  }
  return entries;
}

const IDLE_MS = 60_000;

const readers = new Map<string, ObjectReader>();

/** CPU of the object readers of this process that are running now (ms). */
export function readersCpuMs(): number {
  let total = 0;
  for (const reader of readers.values()) total += reader.cpuMs();
  return total;
}

/** The reader of a cache in this process. */
export function objectReader(cache: string, bin: string): ObjectReader {
  let reader = readers.get(cache);
  if (!reader) readers.set(cache, (reader = new ObjectReader(cache, bin)));
  return reader;
}
