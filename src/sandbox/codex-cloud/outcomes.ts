import { conflictingDiff } from './conflict.js';
import { implementTasks } from './agent.js';
import { completed, failed, type TurnResult, type TurnWork } from './turn.js';

/**
 * What the next created task does, set by a test or the demo. Task outcomes are consumed in order by
 * the tasks created next (none left: `implement`); `http-error` instead makes the next `count`
 * requests of any kind answer `status`.
 */
export type ScriptedOutcome =
  | { kind: 'implement'; pendingPolls?: number }
  | { kind: 'diff'; diff: string; message?: string; pendingPolls?: number }
  | { kind: 'conflict'; pendingPolls?: number }
  | { kind: 'no-diff'; message?: string; pendingPolls?: number }
  | { kind: 'error'; code?: string; message?: string; pendingPolls?: number }
  | {
      kind: 'http-error';
      status: number;
      count?: number;
      retryAfterSeconds?: number;
      message?: string;
      /** Only requests with this method and path (e.g. POST /backend-api/wham/tasks, a create); any request when absent. */
      method?: string;
      path?: string;
    }
  | {
      /** The next `count` matching requests are answered after `delayMs`, as a slow service would (they still take effect). */
      kind: 'slow';
      delayMs: number;
      count?: number;
      method?: string;
      /** Only requests whose path starts with this (e.g. /backend-api/wham/tasks/task_, reads of one task). */
      pathPrefix?: string;
    };

export type TaskOutcome = Exclude<ScriptedOutcome, { kind: 'http-error' | 'slow' }>;

const KINDS = ['implement', 'diff', 'conflict', 'no-diff', 'error', 'http-error', 'slow'];

/** Checks an outcome that came over HTTP; returns why it is unusable, or null. */
export function invalidOutcome(raw: unknown): string | null {
  const outcome = raw as Partial<ScriptedOutcome> | null;
  if (!outcome || typeof outcome !== 'object' || !KINDS.includes(String(outcome.kind))) {
    return `kind must be one of ${KINDS.join(', ')}`;
  }
  if (outcome.kind === 'diff' && typeof outcome.diff !== 'string') return 'a diff outcome needs diff text';
  if (outcome.kind === 'http-error' && !(Number.isInteger(outcome.status) && outcome.status! >= 400 && outcome.status! <= 599)) {
    return 'an http-error outcome needs a status from 400 to 599';
  }
  if (outcome.kind === 'slow' && !(Number.isInteger(outcome.delayMs) && outcome.delayMs! >= 0 && outcome.delayMs! <= 600_000)) {
    return 'a slow outcome needs delayMs from 0 to 600000';
  }
  if ('pendingPolls' in outcome && outcome.pendingPolls !== undefined && !(Number.isInteger(outcome.pendingPolls) && outcome.pendingPolls >= 0)) {
    return 'pendingPolls must be a whole number';
  }
  return null;
}

/** Runs one turn of a task to its end. An unexpected fault becomes a failed turn, as in the real service. */
export async function runTurn(outcome: TaskOutcome, work: TurnWork): Promise<TurnResult> {
  try {
    switch (outcome.kind) {
      case 'implement':
        return await implementTasks(work);
      case 'conflict':
        return await conflictingDiff(work);
      case 'diff':
        return completed(outcome.diff, outcome.message ?? 'I made the requested change; the diff is attached.');
      case 'no-diff':
        return completed(
          null,
          outcome.message ??
            'Before I change anything: should the greeting use the visitor\'s full name or only the first name? The spec does not say.',
        );
      case 'error':
        return failed(outcome.code ?? 'task_failed', outcome.message ?? 'The task failed while setting up the environment.');
    }
  } catch (error) {
    return failed('internal_error', error instanceof Error ? error.message : String(error));
  }
}
