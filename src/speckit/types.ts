// The vocabulary of Spec Kit discovery: what a tasks.md holds and what discovery answers.

/** `[ ]` is open, `[x]`/`[X]` is done, `[-]`/`[~]` is dropped (deferred or abandoned: neither open nor done). */
export type TaskState = 'open' | 'done' | 'dropped';

/** A phase as other records point at it. */
export interface PhaseRef {
  /** The id as written (`0`, `3.10`, `5b`, `A`): compared as a string, never as a number. */
  id: string;
  title: string;
  /** 1-based line of the heading. Unique within a file, so it identifies the phase. */
  line: number;
}

/** An ATX heading `Phase <id>…` and its scope (to the next heading of the same or a higher level). */
export interface Phase extends PhaseRef {
  /** Heading level, 1 (`#`) to 6 (`######`). */
  level: number;
  /** The phase whose scope holds this one, when phases nest. */
  parent: PhaseRef | null;
}

/** A list item with a checkbox. */
export interface Task {
  /** `T001`, `T056a`, `T082.6`, `T-NEW-A`; null when the line carries no id. */
  id: string | null;
  state: TaskState;
  /** 1-based line of the list item. */
  line: number;
  /** How many list items enclose this one (0 for a top-level item). */
  depth: number;
  /** Marked `[P]`: may run in parallel with other tasks. */
  parallel: boolean;
  /** The user story of a `[USn]` marker (`US1`), or null. */
  story: string | null;
  /** The item's first paragraph as written (Markdown kept), without the id and the leading markers. */
  description: string;
  /** The phase that directly holds the task; null outside every phase (such tasks are ignored). */
  phase: PhaseRef | null;
}

/** Why a tasks file (or the feature holding it) cannot be used. One code per cause, written once. */
export enum SpecErrorCode {
  FEATURE_ID_INVALID = 'FEATURE_ID_INVALID',
  FEATURE_UNKNOWN = 'FEATURE_UNKNOWN',
  FEATURE_MISSING = 'FEATURE_MISSING',
  FILE_MISSING = 'FILE_MISSING',
  FILE_UNREADABLE = 'FILE_UNREADABLE',
  NOT_UTF8 = 'NOT_UTF8',
  EMPTY = 'EMPTY',
  NO_PHASE_HEADING = 'NO_PHASE_HEADING',
  NO_TASKS = 'NO_TASKS',
  TASKS_OUTSIDE_PHASES = 'TASKS_OUTSIDE_PHASES',
  PARSE_FAILED = 'PARSE_FAILED',
  /** Beyond what the reader reads within its limits (a construct, the time or the memory budget). */
  SPEC_TOO_COMPLEX = 'SPEC_TOO_COMPLEX',
}

export interface SpecError {
  code: SpecErrorCode;
  /** The file concerned, as the caller named it. */
  file: string;
  /** 1-based line the error points at, or null when it concerns the file as a whole (missing, unreadable). */
  line: number | null;
  /** What is wrong and what the operator can do about it. */
  message: string;
}

export interface ParsedTasks {
  file: string;
  /** Every phase heading, in document order. */
  phases: Phase[];
  /** Every checkbox, in document order, including those outside every phase. */
  tasks: Task[];
  /** Empty when the file can be used. */
  errors: SpecError[];
}

/** The tally that proves an answer, phases and checkboxes inside them; `outside` counts ignored checkboxes. */
export interface TaskCounts {
  phases: number;
  open: number;
  done: number;
  dropped: number;
  outside: number;
}

/** A phase with the tasks it holds directly. Discovery reports every phase so a caller can pick one by id. */
export interface PhaseReport extends Phase {
  /** Tasks the phase holds directly (not those of its sub-phases), in document order. */
  openTasks: Task[];
  doneTasks: Task[];
  droppedTasks: Task[];
}

export type Discovery =
  | { status: 'PHASE'; file: string; phase: PhaseReport; counts: TaskCounts; phases: PhaseReport[] }
  | { status: 'NO_WORK'; file: string; counts: TaskCounts; phases: PhaseReport[] }
  | { status: 'INVALID'; file: string; errors: SpecError[] };
