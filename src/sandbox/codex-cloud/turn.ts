/** How an assistant turn ended. */
export interface TurnResult {
  turnStatus: 'completed' | 'failed';
  diff: string | null;
  messages: string[];
  error: { code: string; message: string } | null;
}

/** What one turn works on: the task's repository at its branch, and what the user asked. */
export interface TurnWork {
  gitRoot: string;
  repository: string;
  branch: string;
  prompt: string;
  startingDiff: string | null;
}

export const completed = (diff: string | null, ...messages: string[]): TurnResult => ({
  turnStatus: 'completed',
  diff,
  messages,
  error: null,
});

export const failed = (code: string, message: string): TurnResult => ({
  turnStatus: 'failed',
  diff: null,
  messages: [],
  error: { code, message },
});
