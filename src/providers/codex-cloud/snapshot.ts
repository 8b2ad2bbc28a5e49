import type { DiffStats, TaskSnapshot, TaskStatus } from './types.js';

// Reads task details the way the Codex CLI does (shared/reference/codex-cloud): leniently, field by
// field, so a missing optional part never hides the parts that are there.

type Json = Record<string, unknown>;

const object = (value: unknown): Json | null =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : null;
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const count = (value: unknown): number => (typeof value === 'number' && value > 0 ? Math.floor(value) : 0);

/** `turn_status` first (completed → READY, failed/cancelled → ERROR, else PENDING); else `state`. */
export function statusOf(turnStatus: string | null, state: string | null): TaskStatus {
  if (turnStatus !== null) {
    if (turnStatus === 'completed') return 'READY';
    if (turnStatus === 'failed' || turnStatus === 'cancelled') return 'ERROR';
    return 'PENDING';
  }
  if (state === 'ready' || state === 'applied') return 'READY';
  if (state === 'error') return 'ERROR';
  return 'PENDING';
}

/** The first non-empty `output_diff` (`.diff`) or `pr` (`.output_diff.diff`) item. */
export function diffOfItems(items: unknown): string | null {
  for (const raw of list(items)) {
    const item = object(raw);
    const diff =
      item?.type === 'output_diff' ? text(item.diff) : item?.type === 'pr' ? text(object(item.output_diff)?.diff) : null;
    if (diff) return diff;
  }
  return null;
}

/** Text of the turn's `message` output items; failing those, the assistant's worklog messages. */
export function messagesOfTurn(turn: Json | null): string[] {
  const messages: string[] = [];
  for (const raw of list(turn?.output_items)) {
    const item = object(raw);
    if (item?.type !== 'message') continue;
    for (const part of list(item.content)) {
      const said = object(part)?.content_type === 'text' ? text(object(part)?.text) : null;
      if (said) messages.push(said);
    }
  }
  if (messages.length > 0) return messages;
  for (const raw of list(object(turn?.worklog)?.messages)) {
    const message = object(raw);
    if (object(message?.author)?.role !== 'assistant') continue;
    for (const part of list(object(message?.content)?.parts)) {
      const said = text(part) ?? (object(part)?.content_type === 'text' ? text(object(part)?.text) : null);
      if (said) messages.push(said);
    }
  }
  return messages;
}

/** Files and lines a unified diff touches, counted as the CLI counts them. */
export function diffStatsOf(diff: string): DiffStats {
  const stats: DiffStats = { filesModified: 0, linesAdded: 0, linesRemoved: 0 };
  for (const line of diff.split('\n')) {
    if (line.startsWith('diff --git ')) stats.filesModified += 1;
    else if (line.startsWith('+++') || line.startsWith('---') || line.startsWith('@@')) continue;
    else if (line.startsWith('+')) stats.linesAdded += 1;
    else if (line.startsWith('-')) stats.linesRemoved += 1;
  }
  if (stats.filesModified === 0 && diff.trim() !== '') stats.filesModified = 1;
  return stats;
}

export function snapshotFromDetails(taskId: string, url: string, details: unknown): TaskSnapshot {
  const root = object(details) ?? {};
  const task = object(root.task) ?? {};
  const display = object(root.task_status_display) ?? object(task.task_status_display);
  const latest = object(display?.latest_turn_status_display);
  const assistant = object(root.current_assistant_turn);

  const turnStatus = text(latest?.turn_status) ?? text(assistant?.turn_status);
  const state = text(display?.state);
  const status = statusOf(turnStatus, state);
  const diff = diffOfItems(object(root.current_diff_task_turn)?.output_items) ?? diffOfItems(assistant?.output_items);
  const messages = messagesOfTurn(assistant);

  const shown = object(latest?.diff_stats);
  let diffStats: DiffStats = {
    filesModified: count(shown?.files_modified),
    linesAdded: count(shown?.lines_added),
    linesRemoved: count(shown?.lines_removed),
  };
  if (diff && diffStats.filesModified + diffStats.linesAdded + diffStats.linesRemoved === 0) diffStats = diffStatsOf(diff);

  let error: TaskSnapshot['error'] = null;
  if (status === 'ERROR') {
    const reported = object(assistant?.error);
    error = {
      code: text(reported?.code) ?? turnStatus ?? state ?? 'error',
      message: text(reported?.message) ?? messages.at(-1) ?? `The Codex task ended ${turnStatus ?? state ?? 'in error'}.`,
    };
  }

  const siblings = list(latest?.sibling_turn_ids).length > 0 ? latest?.sibling_turn_ids : assistant?.sibling_turn_ids;
  return {
    taskId,
    url,
    status,
    turnStatus: turnStatus ?? state,
    turnId: text(assistant?.id) ?? text(task.current_turn_id),
    title: text(task.title),
    environmentId: text(task.environment_id),
    diff,
    messages,
    error,
    siblingTurnIds: list(siblings).filter((id): id is string => typeof id === 'string'),
    diffStats,
  };
}

/** Text of every user input item: where a submission's marker line is found again. */
export function userTextOfDetails(details: unknown): string {
  const turn = object(object(details)?.current_user_turn);
  const texts: string[] = [];
  for (const raw of list(turn?.input_items)) {
    const item = object(raw);
    if (item?.type !== 'message') continue;
    for (const part of list(item.content)) {
      const said = text(object(part)?.text);
      if (said) texts.push(said);
    }
  }
  return texts.join('\n');
}
