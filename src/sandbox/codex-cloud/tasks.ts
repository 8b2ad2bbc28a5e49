import { randomBytes } from 'node:crypto';
import { runTurn, type TaskOutcome } from './outcomes.js';
import type { TurnResult } from './turn.js';

// The emulator's tasks and how the service shows them: task details, list items and sibling turns,
// with every field the CLI's generated models mark required (shared/reference/codex-cloud).

export interface EmulatorEnvironment {
  id: string;
  label: string;
  /** `owner/name`: the bare repository `${gitRoot}/owner/name.git`. */
  repository: string;
  isPinned?: boolean;
}

interface Turn {
  id: string;
  placement: number;
  createdAt: number;
}

export interface EmulatedTask {
  id: string;
  title: string;
  environment: EmulatorEnvironment;
  branch: string;
  inputItems: unknown[];
  createdAt: number;
  /** When the turn ended (its creation until then). */
  updatedAt: number;
  userTurnId: string;
  turns: Turn[];
  pendingPolls: number;
  polls: number;
  /** Settles once; all best-of-N turns share it, as every attempt runs the same outcome. */
  result: Promise<TurnResult>;
  settled: TurnResult | null;
  /** When a reader first saw it finished (epoch seconds): the end of the task's time "in flight" for a client. */
  seenFinishedAt?: number | null;
}

type View = { turnStatus: string; state: string; result: TurnResult | null };

/** A finished task as kept across restarts: everything but the running turn. */
export type StoredTask = Omit<EmulatedTask, 'result' | 'settled' | 'environment'> & { environmentId: string; settled: TurnResult };

export function storedTask(task: EmulatedTask): StoredTask | null {
  if (!task.settled) return null;
  const { result: _result, environment, ...rest } = task;
  return { ...rest, environmentId: environment.id, settled: task.settled };
}

/** A stored task back as a finished one; null when its environment is no longer configured. */
export function restoreTask(stored: StoredTask, environments: EmulatorEnvironment[]): EmulatedTask | null {
  const environment = environments.find((env) => env.id === stored.environmentId);
  if (!environment) return null;
  const { environmentId: _id, ...rest } = stored;
  // Every poll a restarted emulator answers shows the outcome: the task finished before the restart.
  return { ...rest, environment, polls: Math.max(rest.polls, rest.pendingPolls), result: Promise.resolve(stored.settled) };
}

const id = (prefix: string) => `${prefix}${randomBytes(16).toString('hex')}`;
const now = () => Date.now() / 1000;

export function createTask(input: {
  environment: EmulatorEnvironment;
  branch: string;
  inputItems: unknown[];
  prompt: string;
  startingDiff: string | null;
  attempts: number;
  outcome: TaskOutcome;
  gitRoot: string;
}): EmulatedTask {
  const createdAt = now();
  const firstLine = input.prompt.split('\n').find((line) => line.trim() !== '')?.trim() ?? 'Untitled task';
  const result = runTurn(input.outcome, {
    gitRoot: input.gitRoot,
    repository: input.environment.repository,
    branch: input.branch,
    prompt: input.prompt,
    startingDiff: input.startingDiff,
  });
  const task: EmulatedTask = {
    id: id('task_e_'),
    title: firstLine.length > 80 ? `${firstLine.slice(0, 79)}…` : firstLine,
    environment: input.environment,
    branch: input.branch,
    inputItems: input.inputItems,
    createdAt,
    updatedAt: createdAt,
    userTurnId: id('turn_'),
    turns: Array.from({ length: input.attempts }, (_, placement) => ({ id: id('turn_'), placement, createdAt })),
    pendingPolls: input.outcome.pendingPolls ?? 0,
    polls: 0,
    result,
    settled: null,
  };
  // runTurn never rejects: a fault is a failed turn.
  void result.then((settled) => {
    task.settled = settled;
    task.updatedAt = now();
  });
  return task;
}

const pendingView = (task: EmulatedTask): View => ({
  turnStatus: task.polls === 0 ? 'pending' : 'in_progress',
  state: 'pending',
  result: null,
});

/** What a reader sees now, without counting a poll. */
function currentView(task: EmulatedTask): View {
  if (task.polls < task.pendingPolls || !task.settled) return pendingView(task);
  const ok = task.settled.turnStatus === 'completed';
  return { turnStatus: task.settled.turnStatus, state: ok ? 'ready' : 'error', result: task.settled };
}

/** A poll of the details: the first `pendingPolls` show the task still running, then it waits for the end. */
export async function pollView(task: EmulatedTask): Promise<View> {
  if (task.polls < task.pendingPolls) {
    const view = pendingView(task);
    task.polls += 1;
    return view;
  }
  await task.result;
  const view = currentView(task);
  task.seenFinishedAt ??= view.result ? now() : null;
  return view;
}

function diffStats(diff: string | null) {
  const stats = { files_modified: 0, lines_added: 0, lines_removed: 0 };
  for (const line of diff?.split('\n') ?? []) {
    if (line.startsWith('diff --git ')) stats.files_modified += 1;
    else if (/^(\+\+\+|---) /.test(line)) continue;
    else if (line[0] === '+') stats.lines_added += 1;
    else if (line[0] === '-') stats.lines_removed += 1;
  }
  return stats;
}

function statusDisplay(task: EmulatedTask, view: View) {
  const [first, ...others] = task.turns;
  return {
    environment_label: task.environment.label,
    latest_turn_status_display: {
      turn_id: first!.id,
      turn_status: view.turnStatus,
      sibling_turn_ids: others.map((turn) => turn.id),
      diff_stats: diffStats(view.result?.diff ?? null),
      created_at: task.createdAt,
      updated_at: view.result ? task.updatedAt : task.createdAt,
    },
    state: view.state,
  };
}

function outputItems(view: View) {
  const result = view.result;
  if (!result || result.turnStatus !== 'completed') return [];
  const items: unknown[] = result.messages.map((text) => ({ type: 'message', content: [{ content_type: 'text', text }] }));
  if (result.diff) items.push({ type: 'pr', pr_title: 'Codex changes', output_diff: { diff: result.diff } });
  return items;
}

function assistantTurn(task: EmulatedTask, turn: Turn, view: View) {
  return {
    id: turn.id,
    created_at: turn.createdAt,
    turn_status: view.turnStatus,
    attempt_placement: turn.placement,
    sibling_turn_ids: task.turns.filter((other) => other !== turn).map((other) => other.id),
    output_items: outputItems(view),
    ...(view.result?.error ? { error: view.result.error } : {}),
    worklog: {
      messages: (view.result?.messages ?? []).map((text) => ({ author: { role: 'assistant' }, content: { parts: [text] } })),
    },
  };
}

export function taskDetails(task: EmulatedTask, view: View) {
  const [first] = task.turns;
  return {
    task: {
      id: task.id,
      title: task.title,
      has_generated_title: false,
      archived: false,
      external_pull_requests: [],
      created_at: task.createdAt,
      updated_at: view.result ? task.updatedAt : task.createdAt,
      environment_id: task.environment.id,
      current_turn_id: first!.id,
      has_unread_turn: view.result !== null,
    },
    task_status_display: statusDisplay(task, view),
    current_user_turn: { id: task.userTurnId, turn_status: 'completed', created_at: task.createdAt, input_items: task.inputItems },
    current_assistant_turn: assistantTurn(task, first!, view),
    ...(view.result?.diff
      ? { current_diff_task_turn: { id: first!.id, output_items: [{ type: 'output_diff', diff: view.result.diff }] } }
      : {}),
  };
}

export function taskListItem(task: EmulatedTask) {
  const view = currentView(task);
  return {
    id: task.id,
    title: task.title,
    has_generated_title: false,
    created_at: task.createdAt,
    updated_at: view.result ? task.updatedAt : task.createdAt,
    task_status_display: statusDisplay(task, view),
    archived: false,
    has_unread_turn: view.result !== null,
    pull_requests: [],
  };
}

/** The other best-of-N turns of `turnId`; null when the task has no such turn. */
export function siblingTurns(task: EmulatedTask, turnId: string) {
  if (!task.turns.some((turn) => turn.id === turnId)) return null;
  const view = currentView(task);
  return {
    sibling_turns: task.turns
      .filter((turn) => turn.id !== turnId)
      .map((turn) => ({
        id: turn.id,
        attempt_placement: turn.placement,
        created_at: turn.createdAt,
        turn_status: view.turnStatus,
        output_items: outputItems(view),
      })),
  };
}
