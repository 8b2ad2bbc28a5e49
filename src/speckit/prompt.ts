import type { PhaseReport, Task } from './types.js';

export interface PhasePromptInput {
  phase: PhaseReport;
  /** The feature folder as the agent sees it, relative to the repository root: `specs/001-name`. */
  featureDir: string;
  hasPlan: boolean;
  hasSpec: boolean;
  /** The operator asked for this phase again although its tasks are done: they are all to be done again. */
  redo?: boolean;
}

/**
 * The instruction for one Codex task: implement exactly one phase of tasks.md. `/speckit.implement` has no
 * "only phase N" switch, so the prompt says it; it also stops to ask when a checklist has open items,
 * which an unattended run must answer in advance. Same input, same text.
 */
export function buildPhasePrompt(input: PhasePromptInput): string {
  // A redo lists the done tasks as the ones to do: the same rules then apply to them.
  const phase = input.redo ? { ...input.phase, openTasks: [...input.phase.openTasks, ...input.phase.doneTasks].sort((a, b) => a.line - b.line), doneTasks: [] } : input.phase;
  const { featureDir, hasPlan, hasSpec } = input;
  const dir = featureDir.replace(/\/+$/, '');
  const tasksFile = `${dir}/tasks.md`;
  const name = phaseName(phase);
  const ids = phase.openTasks.map((task) => task.id).filter((id): id is string => id !== null);
  // A range would hide gaps (T011–T014 without T013), so short lists are spelled out.
  const range = ids.length === 0 ? '' : ids.length <= 8 ? ` (${ids.join(', ')})` : ` (${ids[0]}–${ids.at(-1)}, ${ids.length} tasks)`;
  const guides = [hasPlan ? `${dir}/plan.md` : null, hasSpec ? `${dir}/spec.md` : null].filter((path) => path !== null);

  const lines = [
    `$speckit-implement Implement only ${name}${range} of ${tasksFile}.`,
    '',
    phase.parent
      ? `This phase is part of ${phaseName(phase.parent)} (line ${phase.parent.line}); only the tasks listed here belong to this run.`
      : null,
    input.redo
      ? `The operator asked for ${name} to be done again: its tasks are marked done already, redo them (heading at line ${phase.line} of ${tasksFile}):`
      : `Open tasks of ${name} (heading at line ${phase.line} of ${tasksFile}):`,
    ...phase.openTasks.map(taskLine),
    phase.doneTasks.length > 0
      ? `Already done in this phase, leave as they are: ${phase.doneTasks.map(taskName).join(', ')}.`
      : null,
    phase.droppedTasks.length > 0
      ? `Dropped in this phase ([-] or [~]), do not implement or re-mark: ${phase.droppedTasks.map(taskName).join(', ')}.`
      : null,
    '',
    'Rules for this run:',
    `1. Implement the open tasks listed above and nothing else. Do not work on, edit or re-mark tasks of any other phase, even open ones.`,
    guides.length > 0
      ? `2. Follow ${guides.join(' and ')} (design, file layout, requirements).`
      : `2. ${dir} has no plan.md or spec.md; follow the task descriptions and the code already in the repository.`,
    input.redo
      ? `3. Leave the checkboxes of ${tasksFile} as they are ("[X]"). Change nothing else in that file.`
      : `3. When a task is finished, change its checkbox from "[ ]" to "[X]" in ${tasksFile}. Change nothing else in that file.`,
    `4. This run is unattended: no one can answer questions. If checklists under ${dir}/checklists/ have open items, do not stop to ask; note them in your summary and proceed with the implementation.`,
    `5. Do the tasks in the order listed; only tasks marked [P] are independent of each other.`,
    `6. If the $speckit-implement skill is not installed, follow the /speckit.implement workflow for this phase with the same rules.`,
  ];
  return lines.filter((line) => line !== null).join('\n') + '\n';
}

function phaseName(phase: { id: string; title: string }): string {
  return phase.title === '' ? `Phase ${phase.id}` : `Phase ${phase.id} "${phase.title}"`;
}

function taskName(task: Task): string {
  return task.id ?? `line ${task.line}`;
}

function taskLine(task: Task): string {
  const markers = [task.parallel ? '[P]' : null, task.story ? `[${task.story}]` : null].filter((marker) => marker !== null);
  const head = [task.id ?? `(line ${task.line})`, ...markers].join(' ');
  return `- ${head} ${task.description}`.trimEnd();
}
