import { parseTasks } from './parse.js';
import type { Discovery, ParsedTasks, Phase, PhaseReport, Task, TaskCounts } from './types.js';

/**
 * The next incomplete phase: the one directly holding the first open task that lies inside any phase.
 * That is the first phase in document order whose scope holds an open task, or, when phases nest, the
 * sub-phase of it that holds the task. Checkboxes outside every phase are ignored (only counted).
 */
export function nextPhase(parsed: ParsedTasks): Discovery {
  const { file } = parsed;
  if (parsed.errors.length > 0) return { status: 'INVALID', file, errors: parsed.errors };
  const counts = countTasks(parsed);
  // Tasks grouped by phase once: filtering every task per phase is quadratic in a file of many small phases.
  const byPhase = new Map<number, Task[]>();
  for (const task of parsed.tasks) {
    if (!task.phase) continue;
    const own = byPhase.get(task.phase.line);
    if (own) own.push(task);
    else byPhase.set(task.phase.line, [task]);
  }
  const phases = parsed.phases.map((phase) => report(phase, byPhase.get(phase.line) ?? []));
  const first = parsed.tasks.find((task) => task.state === 'open' && task.phase !== null);
  if (!first) return { status: 'NO_WORK', file, counts, phases };
  const phase = phases.find((candidate) => candidate.line === first.phase!.line)!;
  return { status: 'PHASE', file, counts, phase, phases };
}

function report(phase: Phase, own: readonly Task[]): PhaseReport {
  return {
    ...phase,
    openTasks: own.filter((task) => task.state === 'open'),
    doneTasks: own.filter((task) => task.state === 'done'),
    droppedTasks: own.filter((task) => task.state === 'dropped'),
  };
}

/** A phase of a discovery by its id (the first with that id); null when tasks.md has none. */
export function phaseById(discovery: Extract<Discovery, { phases: PhaseReport[] }>, id: string): PhaseReport | null {
  return discovery.phases.find((phase) => phase.id === id) ?? null;
}

/**
 * Parses and answers in one call. Never throws, whatever the input. On the event loop only for trusted
 * input (tests, the bench): a service reads through `readTasks` (pool.ts), which bounds time and memory.
 */
export function discover(input: string | Uint8Array, file = 'tasks.md', progress?: (line: number) => void): Discovery {
  return nextPhase(parseTasks(input, file, progress));
}

function countTasks({ phases, tasks }: ParsedTasks): TaskCounts {
  const counts: TaskCounts = { phases: phases.length, open: 0, done: 0, dropped: 0, outside: 0 };
  for (const task of tasks) {
    if (task.phase === null) counts.outside++;
    else counts[task.state]++;
  }
  return counts;
}
