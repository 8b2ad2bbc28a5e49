import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { redactSecrets } from '../redact.js';
import type { TaskSnapshot } from './types.js';

/**
 * A Codex Cloud task written as `codex exec --json` writes a local run (shared/reference/codex-cloud),
 * so operators read both with the same tools: the task id is the thread id, the agent's messages and
 * the diff's files are completed items, and the end is `turn.completed` or `error` + `turn.failed`.
 */
export type CodexLogEvent =
  | { kind: 'submitted'; taskId: string }
  | { kind: 'polled'; snapshot: TaskSnapshot }
  | { kind: 'failed'; error: unknown };

export type FileChangeKind = 'add' | 'delete' | 'update';

const unquote = (path: string) => (path.startsWith('"') && path.endsWith('"') ? JSON.parse(path) as string : path);
const strip = (path: string) => unquote(path.trim()).replace(/^[ab]\//, '');

/** The files a unified git diff touches, in order, with what happens to each. */
export function changedFiles(diff: string): { path: string; kind: FileChangeKind }[] {
  const files: { path: string; kind: FileChangeKind }[] = [];
  let current: { path: string; kind: FileChangeKind } | null = null;
  for (const line of diff.split('\n')) {
    if (line.startsWith('diff --git ')) {
      const header = /^diff --git (.+?) (b\/.+|"b\/.+")$/.exec(line);
      current = { path: header ? strip(header[2]!) : line.slice(11), kind: 'update' };
      files.push(current);
    } else if (!current) {
      continue;
    } else if (line.startsWith('new file mode')) {
      current.kind = 'add';
    } else if (line.startsWith('deleted file mode')) {
      current.kind = 'delete';
    } else if (line.startsWith('+++ ') && !line.endsWith('/dev/null')) {
      current.path = strip(line.slice(4));
    } else if (line.startsWith('--- ') && current.kind === 'delete' && !line.endsWith('/dev/null')) {
      current.path = strip(line.slice(4));
    } else if (line.startsWith('rename to ')) {
      current.path = unquote(line.slice(10));
    }
  }
  return files;
}

/** The JSONL lines for one request or poll; credentials (known values and their shapes) removed. */
export function execJsonLines(event: CodexLogEvent, known: readonly string[] = []): string[] {
  const clean = (text: string) => redactSecrets(text, known);
  const lines: object[] = [];
  if (event.kind === 'submitted') {
    lines.push({ type: 'thread.started', thread_id: event.taskId }, { type: 'turn.started' });
  } else if (event.kind === 'failed') {
    const message = event.error instanceof Error ? event.error.message : String(event.error);
    lines.push({ type: 'error', message: clean(message) });
  } else {
    const { snapshot } = event;
    if (snapshot.status === 'PENDING') return [];
    let next = 0;
    for (const text of snapshot.messages) {
      lines.push({ type: 'item.completed', item: { id: `item_${next++}`, type: 'agent_message', text: clean(text) } });
    }
    if (snapshot.diff) {
      const changes = changedFiles(snapshot.diff).map((change) => ({ path: clean(change.path), kind: change.kind }));
      lines.push({ type: 'item.completed', item: { id: `item_${next++}`, type: 'file_change', changes, status: 'completed' } });
    }
    if (snapshot.status === 'READY') {
      // Codex Cloud reports no token counts; the field is kept so readers of the envelope find it.
      lines.push({ type: 'turn.completed', usage: { input_tokens: 0, cached_input_tokens: 0, output_tokens: 0 } });
    } else {
      const message = clean(snapshot.error ? `${snapshot.error.code}: ${snapshot.error.message}` : 'The Codex task failed.');
      lines.push({ type: 'error', message }, { type: 'turn.failed', error: { message } });
    }
  }
  return lines.map((line) => JSON.stringify(line));
}

/** Appends lines to a JSONL file, creating its folder; one write, so lines of two writers never interleave mid-line. */
export async function appendJsonLines(path: string, lines: readonly string[]): Promise<void> {
  if (lines.length === 0) return;
  await mkdir(dirname(path), { recursive: true });
  await appendFile(path, `${lines.join('\n')}\n`, { mode: 0o600 });
}
