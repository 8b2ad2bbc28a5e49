// What the chain sees of Codex Cloud. The wire format (shared/reference/codex-cloud) stays inside
// this folder; these types are the narrow interface the steps and the sandbox swap behind.

import type { FailureCode } from '../../interfaces.js';

export type TaskStatus = 'READY' | 'PENDING' | 'ERROR';

export interface CodexEnvironment {
  id: string;
  label: string | null;
  isPinned: boolean;
  taskCount: number | null;
}

export interface SubmitTaskInput {
  environmentId: string;
  /** The branch Codex starts from. */
  branch: string;
  prompt: string;
  /** How many solutions Codex works out (best-of-N), 1 to 4. */
  bestOfN: number;
  /**
   * A line that identifies this submission (e.g. `spec-chain-run: <runId>/<attempt>`). It is added to
   * the prompt when the prompt does not already hold it, so `findTaskByMarker` can find the task again.
   */
  marker: string;
  /** A diff Codex applies before it starts (the CLI's `pre_apply_patch`). */
  startingDiff?: string;
}

export interface SubmittedTask {
  taskId: string;
  url: string;
}

export interface DiffStats {
  filesModified: number;
  linesAdded: number;
  linesRemoved: number;
}

export interface TaskSnapshot {
  taskId: string;
  /** The task's page for people. */
  url: string;
  status: TaskStatus;
  /** The raw turn status (`pending`, `in_progress`, `completed`, `failed`, `cancelled`), or the state. */
  turnStatus: string | null;
  /** The current assistant turn, needed to list best-of-N siblings. */
  turnId: string | null;
  title: string | null;
  environmentId: string | null;
  diff: string | null;
  /** The agent's own words; for a READY task without a diff they say why. */
  messages: string[];
  error: { code: string; message: string } | null;
  siblingTurnIds: string[];
  diffStats: DiffStats;
}

export interface UsageWindow {
  usedPercent: number;
  windowSeconds: number | null;
  resetAfterSeconds: number | null;
  resetAt: number | null;
}

export interface CodexUsage {
  planType: string | null;
  limitReached: boolean;
  rateLimitReachedType: string | null;
  primaryWindow: UsageWindow | null;
  secondaryWindow: UsageWindow | null;
  credits: { hasCredits: boolean; unlimited: boolean; balance: string | null } | null;
}

export interface MarkerSearch {
  taskId: string | null;
  pagesRead: number;
  tasksRead: number;
  /** True when every task created since `since` was looked at. */
  complete: boolean;
  /** Why the search is not complete. */
  incomplete?: string;
}

/** One issue found by preflight: which reference to fix and how. */
export interface CodexAccessIssue {
  ref: string;
  code: FailureCode;
  message: string;
}

/** The Codex Cloud operations the chain uses. Every call takes an optional AbortSignal. */
export interface CodexCloud {
  resolveEnvironment(repository: string, idOrLabel: string, signal?: AbortSignal): Promise<CodexEnvironment>;
  submitTask(input: SubmitTaskInput, signal?: AbortSignal): Promise<SubmittedTask>;
  getTask(taskId: string, signal?: AbortSignal): Promise<TaskSnapshot>;
  getUsage(signal?: AbortSignal): Promise<CodexUsage>;
  /**
   * The newest task of the environment whose prompt holds `marker` as a line, searching every page of
   * tasks back to `since` (the list is newest first). Says how far it looked, and when it could not
   * rule a task out (a list without creation times, or more pages than it will read).
   */
  findTaskByMarker(environmentId: string, marker: string, since: Date, signal?: AbortSignal): Promise<MarkerSearch>;
  /** Makes sure the credentials work now (refreshing them if needed); throws a CREDENTIALS error if not. */
  checkCredentials(signal?: AbortSignal): Promise<void>;
}
