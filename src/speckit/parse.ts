import { decodeLines } from './decode.js';
import { SpecTooComplex } from './limits.js';
import { readBlocks, type ItemBlock, type ReadOptions } from './markdown.js';
import { readPhaseHeading } from './phase-heading.js';
import { readTaskText } from './task-text.js';
import { SpecErrorCode, type ParsedTasks, type Phase, type PhaseRef, type SpecError, type Task, type TaskState } from './types.js';

/** `[-]` or `[~]` followed by text: a dropped task. GFM does not know these, so they are read here. */
const DROPPED = /^\[[-~]\][ \t]+\S/;

/**
 * Reads a tasks.md: its phases, its checkboxes and the phase that directly holds each, plus the errors
 * that make the file unusable. Never throws. `progress` is told each line reading reaches.
 */
export function parseTasks(input: string | Uint8Array, file = 'tasks.md', progress?: ReadOptions['progress']): ParsedTasks {
  const invalid = (error: SpecError): ParsedTasks => ({ file, phases: [], tasks: [], errors: [error] });
  const decoded = decodeLines(input, file);
  if ('error' in decoded) return invalid(decoded.error);
  const { lines } = decoded;
  if (lines.every((line) => line.trim() === '')) {
    return invalid({
      code: SpecErrorCode.EMPTY,
      file,
      line: 1,
      message: `${file} is empty. Generate it with /speckit.tasks (or write its phases and tasks), then push it.`,
    });
  }
  let parsed: ParsedTasks;
  try {
    parsed = structure(lines, file, progress);
  } catch (cause) {
    if (cause instanceof SpecTooComplex) return invalid(tooComplex(file, cause.line, cause.construct));
    return invalid({
      code: SpecErrorCode.PARSE_FAILED,
      file,
      line: null,
      message: `${file} could not be parsed as Markdown (${cause instanceof Error ? cause.message : String(cause)}).`,
    });
  }
  parsed.errors = validate(parsed);
  return parsed;
}

/** The error of a file beyond the reader's limits: `construct` says which limit, `line` where reading was. */
export function tooComplex(file: string, line: number | null, construct: string): SpecError {
  return {
    code: SpecErrorCode.SPEC_TOO_COMPLEX,
    file,
    line,
    message:
      `${file} is too complex to read${line === null ? '' : ` (at line ${line})`}: ${construct}. ` +
      `Simplify the Markdown there (blank lines between blocks, less nesting), or regenerate the file with /speckit.tasks.`,
  };
}

/** Assigns every checkbox to the innermost phase whose scope holds it. */
function structure(lines: readonly string[], file: string, progress: ReadOptions['progress']): ParsedTasks {
  const phases: Phase[] = [];
  const tasks: Task[] = [];
  // The phases whose scope is open at this point, outermost first.
  const open: { level: number; ref: PhaseRef | null }[] = [];
  for (const block of readBlocks(lines, { progress })) {
    if (block.kind === 'heading') {
      // A heading closes every scope at its level or deeper; a deeper heading stays inside.
      while (open.length > 0 && open.at(-1)!.level >= block.level) open.pop();
      const heading = block.atx ? readPhaseHeading(block.text) : null;
      if (heading) {
        const ref = { id: heading.id, title: heading.title, line: block.line };
        phases.push({ ...ref, level: block.level, parent: innermost(open) });
        open.push({ level: block.level, ref });
      } else {
        // A plain heading inside a phase leaves it open; it is kept only to be closed by the next heading.
        open.push({ level: block.level, ref: innermost(open) });
      }
      continue;
    }
    const state = stateOf(block, lines);
    if (!state) continue;
    const text = readTaskText(paragraphText(block, lines, state));
    tasks.push({ ...text, state, line: block.line, depth: block.depth, phase: innermost(open) });
  }
  return { file, phases, tasks, errors: [] };
}

function innermost(open: readonly { ref: PhaseRef | null }[]): PhaseRef | null {
  return open.at(-1)?.ref ?? null;
}

function stateOf(item: ItemBlock, lines: readonly string[]): TaskState | null {
  if (item.checked === true) return 'done';
  if (item.checked === false) return 'open';
  const start = item.paragraph;
  return start && DROPPED.test(lines[start.line - 1]!.slice(start.index)) ? 'dropped' : null;
}

/** The first paragraph as written, from the original lines (whose tails the parser may not have seen). */
function paragraphText(item: ItemBlock, lines: readonly string[], state: TaskState): string {
  const at = item.paragraph;
  if (!at) return '';
  let text = lines[at.line - 1]!.slice(at.index);
  if (state === 'dropped') text = text.slice(3);
  for (let line = at.line + 1; line <= at.endLine; line++) {
    // Continuation lines carry the item's indentation and, inside a block quote, its `>` markers.
    text += ' ' + lines[line - 1]!.replace(/^[ \t>]*/, '');
  }
  return text;
}

/** The errors that make a file unusable: never answer "no work" for a file that cannot say so. */
function validate({ file, phases, tasks }: ParsedTasks): SpecError[] {
  const firstTask = tasks[0];
  if (phases.length === 0) {
    const seen = firstTask
      ? ` It has ${tasks.length} checkbox(es), the first at line ${firstTask.line}, but none sits under a phase.`
      : '';
    return [
      {
        code: SpecErrorCode.NO_PHASE_HEADING,
        file,
        line: firstTask?.line ?? 1,
        message:
          `${file} has no phase heading (a Markdown heading such as "## Phase 1: Setup").${seen} ` +
          `Regenerate it with /speckit.tasks or add phase headings above the tasks.`,
      },
    ];
  }
  if (tasks.length === 0) {
    return [
      {
        code: SpecErrorCode.NO_TASKS,
        file,
        line: phases[0]!.line,
        message:
          `${file} has ${phases.length} phase heading(s), the first at line ${phases[0]!.line}, but no task checkbox ` +
          `("- [ ] T001 ...") anywhere. Regenerate it with /speckit.tasks or add the tasks under their phases.`,
      },
    ];
  }
  if (!tasks.some((task) => task.phase !== null)) {
    return [
      {
        code: SpecErrorCode.TASKS_OUTSIDE_PHASES,
        file,
        line: firstTask!.line,
        message:
          `${file} has ${tasks.length} checkbox(es), the first at line ${firstTask!.line}, but none under a phase heading ` +
          `(phase headings at line(s) ${listLines(phases)}). ` +
          `Move the tasks under their "## Phase N: ..." headings.`,
      },
    ];
  }
  return [];
}

/** At most five line numbers, so a message stays readable for any file. */
function listLines(phases: readonly Phase[]): string {
  const shown = phases.slice(0, 5).map((phase) => phase.line).join(', ');
  return phases.length > 5 ? `${shown}, ...` : shown;
}
