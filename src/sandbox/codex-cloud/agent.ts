import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { withCheckout } from './checkout.js';
import { git } from './git.js';
import { completed, failed, type TurnResult, type TurnWork } from './turn.js';

// The imitation agent behind the `implement` outcome. It does what a prompt like "Implement only
// Phase 2 (T003–T004) of specs/001-x/tasks.md" followed by the phase's task list asks, in the
// plainest way: marks those tasks [X], writes one small file per task, and answers with the real
// `git diff`, so the diff applies.

const TASK_ID = /\bT\d{3,}[a-z]?\b/g;
const RANGE = /\b(T\d{3,}[a-z]?)\s*(?:–|—|-|\.\.|to|through)\s*(T\d{3,}[a-z]?)\b/g;
const OPEN_TASK = /^(\s*[-*+]\s+)\[ \](\s+(?:\*\*)?)(T\d{3,}[a-z]?)\b(.*)$/;
const ANY_TASK = /^\s*[-*+]\s+\[[ xX~-]\]\s+(?:\*\*)?(T\d{3,}[a-z]?)\b/;
const HEADING = /^(#{1,6})\s+(.*)$/;
const LISTED_TASK = /^\s*[-*+]\s+(?:\[ \]\s+)?(?:\*\*)?(T\d{3,}[a-z]?)\b/;

/** The tasks file the prompt names, as a path inside the repository. */
export function tasksPathIn(prompt: string): string | null {
  const found = /(?:^|[\s`'"(])\/?(specs\/[^\s`'"()]+?\/tasks\.md)/m.exec(prompt);
  return found ? found[1]! : null;
}

/** Ids of tasks in document order, with whether each is open. */
function tasksIn(lines: string[]): { id: string; open: boolean; line: number }[] {
  return lines.flatMap((text, line) => {
    const m = ANY_TASK.exec(text);
    return m ? [{ id: m[1]!, open: OPEN_TASK.test(text), line }] : [];
  });
}

/**
 * The task ids the prompt asks for. A prompt that lists tasks (`- T003 [P] …`) asks for those; else
 * its ranges (`T003–T007`, by document order) and single ids; else every task under the phase it
 * names (`Phase 3`). Ids inside task descriptions ("depends on T003") are not requests.
 */
export function requestedTaskIds(prompt: string, tasksText: string): string[] {
  const lines = tasksText.split(/\r?\n/);
  const tasks = tasksIn(lines);
  const order = tasks.map((t) => t.id);
  const wanted = new Set<string>();
  for (const line of prompt.split(/\r?\n/)) {
    const listed = LISTED_TASK.exec(line)?.[1];
    if (listed && order.includes(listed)) wanted.add(listed);
  }
  if (wanted.size === 0) {
    for (const [, from, to] of prompt.matchAll(RANGE)) {
      const start = order.indexOf(from!);
      const end = order.lastIndexOf(to!);
      if (start >= 0 && end >= start) for (const id of order.slice(start, end + 1)) wanted.add(id);
    }
    for (const [id] of prompt.matchAll(TASK_ID)) if (order.includes(id)) wanted.add(id);
  }
  if (wanted.size === 0) {
    const phase = /\bPhase\s+([0-9]+(?:\.[0-9]+)*[a-z]?|[A-Z])\b/.exec(prompt)?.[1];
    const start = phase === undefined ? -1 : lines.findIndex((l) => new RegExp(`^#{1,6}\\s+Phase\\s+${phase.replaceAll('.', '\\.')}\\b`).test(l));
    if (start >= 0) {
      const level = HEADING.exec(lines[start]!)![1]!.length;
      const after = lines.findIndex((l, i) => i > start && (HEADING.exec(l)?.[1]?.length ?? 7) <= level);
      const end = after < 0 ? lines.length : after;
      for (const task of tasks) if (task.line > start && task.line < end) wanted.add(task.id);
    }
  }
  return order.filter((id, i) => wanted.has(id) && order.indexOf(id) === i);
}

export function implementTasks(work: TurnWork): Promise<TurnResult> {
  return withCheckout(work, async (dir) => {
    if (work.startingDiff) {
      const applied = await git(['apply', '--index', '-'], { cwd: dir, input: work.startingDiff, allowFailure: true });
      if (applied.code !== 0) return failed('pre_apply_patch_failed', `The starting diff does not apply: ${applied.stderr.trim()}`);
    }
    const tasksPath = tasksPathIn(work.prompt);
    if (!tasksPath) {
      return completed(null, 'Which feature should I implement? The prompt names no specs/<feature>/tasks.md file, so I changed nothing.');
    }
    const tasksText = await readFile(join(dir, tasksPath), 'utf8').catch(() => null);
    if (tasksText === null) {
      return completed(null, `I could not find ${tasksPath} on ${work.branch}, so I changed nothing. Is the path right?`);
    }
    const eol = tasksText.includes('\r\n') ? '\r\n' : '\n';
    const lines = tasksText.split(/\r?\n/);
    const ids = requestedTaskIds(work.prompt, tasksText);
    const done: string[] = [];
    for (const id of ids) {
      const index = lines.findIndex((line) => OPEN_TASK.exec(line)?.[3] === id);
      if (index < 0) continue;
      const [, lead, gap, , rest] = OPEN_TASK.exec(lines[index]!)!;
      lines[index] = `${lead}[X]${gap}${id}${rest}`;
      const feature = dirname(tasksPath);
      const note = join(dir, feature, 'implemented', `${id}.md`);
      await mkdir(dirname(note), { recursive: true });
      await writeFile(note, `# ${id}\n\n${rest!.trim()}\n\nDone by the sandbox agent on ${work.branch}.\n`);
      done.push(id);
    }
    // Asked to do done tasks again, or given notes: the agent acts on them as a person would, in the
    // same plain way (a note per task done again, the operator's notes answered in a file).
    const redo = /be done again/.test(work.prompt);
    const notes = /^Notes from the operator:\n((?:> .*(?:\n|$))+)/m.exec(work.prompt)?.[1]?.replace(/^> /gm, '').trim() ?? null;
    const feature = dirname(tasksPath);
    const extra: string[] = [];
    if (redo) {
      for (const id of ids.filter((i) => !done.includes(i))) {
        const note = join(dir, feature, 'implemented', `${id}.md`);
        await mkdir(dirname(note), { recursive: true });
        const before = await readFile(note, 'utf8').catch(() => `# ${id}\n`);
        await writeFile(note, `${before.trimEnd()}\n\nDone again by the sandbox agent on ${work.branch}.\n`);
        extra.push(`redid ${id}`);
      }
    }
    if (notes) {
      const file = join(dir, feature, 'implemented', 'operator-notes.md');
      await mkdir(dirname(file), { recursive: true });
      const before = await readFile(file, 'utf8').catch(() => '# Operator notes\n');
      await writeFile(file, `${before.trimEnd()}\n\n- Answered: ${notes.split('\n')[0]}\n`);
      extra.push('answered the operator\'s notes');
    }
    if (done.length === 0 && extra.length === 0) {
      const asked = ids.length > 0 ? `${ids.join(', ')} are already done` : 'the prompt names no open task of it';
      return completed(null, `Nothing to do in ${tasksPath}: ${asked}. Which tasks should I work on?`);
    }
    if (done.length === 0) {
      await git(['add', '-A'], { cwd: dir });
      const diff = (await git(['diff', '--cached'], { cwd: dir })).stdout;
      return completed(diff, `In ${tasksPath}: ${extra.join(', ')}.`);
    }
    await writeFile(join(dir, tasksPath), lines.join(eol));
    await git(['add', '-A'], { cwd: dir });
    const diff = (await git(['diff', '--cached'], { cwd: dir })).stdout;
    return completed(
      diff,
      `Implemented ${done.join(', ')} from ${tasksPath}: one note per task under ${dirname(tasksPath)}/implemented/, and each task marked [X]${extra.length ? `; ${extra.join(', ')}` : ''}.`,
    );
  });
}
