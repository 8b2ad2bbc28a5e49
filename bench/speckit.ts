import { performance } from 'node:perf_hooks';
import { discover } from '../src/speckit/index.js';
import { MicromarkBudget } from '../src/speckit/limits.js';
import { readBlocks } from '../src/speckit/markdown.js';

// How fast discovery reads a large tasks.md (about 1 MB, far beyond real files of 5 to 80 KB), against
// a plain line-by-line regex scan of the same bytes measured in the same run.

const TARGET_BYTES = 1_000_000;
/** The size of a large real tasks.md. */
const TYPICAL_BYTES = 50_000;
const WARM_UP = 3;
const RUNS = 20;

export async function benchSpeckit(): Promise<string> {
  const large = buildTasksFile(TARGET_BYTES);
  const typical = buildTasksFile(TYPICAL_BYTES);
  const rows = [
    ...measureFile('1 MB', large),
    ...measureFile('typical', typical),
    // Every region through micromark, none read directly: the cost for a file whose lines the simple reader refuses.
    row('1 MB: blocks only, every region read by micromark (5 runs)', measure(() => readBlocks(large.split('\n'), { simple: false, budget: new MicromarkBudget(Infinity) }), 1, 5), large),
    // The same parser on the whole document in one piece with every line whole: what reading in pieces avoids.
    row('1 MB: one micromark parse of the whole file (1 run)', measure(() => readBlocks(large.split('\n'), { shorten: false, chunkChars: Infinity }), 0, 1), large),
  ];
  return [
    '## Spec Kit discovery',
    '',
    `Generated tasks.md files shaped like Spec Kit's: ${describeFile(large)} and ${describeFile(typical)}. ` +
      `Each reading runs ${RUNS} times after ${WARM_UP} warm-up runs; Node ${process.version}.`,
    '',
    '| reading | p50 ms | p99 ms | mean ms | MB/s |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => r.line),
    '',
    ...rows.filter((r) => r.ratio !== null).map((r) => `- ${r.ratio}`),
    '',
    'The baseline knows no Markdown (lists, fences, HTML blocks, scope); it shows the floor, not an alternative.',
    '',
  ].join('\n');
}

function measureFile(label: string, text: string) {
  const bytes = new TextEncoder().encode(text);
  const answer = discover(bytes);
  if (answer.status !== 'PHASE') throw new Error(`benchmark file gave ${answer.status}`);
  const parse = measure(() => discover(bytes));
  const scan = measure(() => regexScan(new TextDecoder().decode(bytes)));
  const ratio = `${label}: discover / baseline (mean) = ${(stats(parse).mean / stats(scan).mean).toFixed(1)}×`;
  return [row(`${label}: \`discover\` (simple regions read directly, the rest by micromark + GFM)`, parse, text, ratio), row(`${label}: baseline, line-by-line regex scan`, scan, text)];
}

function row(name: string, times: number[], text: string, ratio: string | null = null) {
  const s = stats(times);
  const megabytes = Buffer.byteLength(text) / 1_000_000;
  const line = `| ${name} | ${s.p50.toFixed(1)} | ${s.p99.toFixed(1)} | ${s.mean.toFixed(1)} | ${(megabytes / (s.mean / 1000)).toFixed(1)} |`;
  return { line, ratio };
}

function describeFile(text: string): string {
  return `${(Buffer.byteLength(text) / 1024).toFixed(0)} KiB (${text.split('\n').length} lines, ${countTasks(text)} checkboxes)`;
}

export function measure(work: () => unknown, warmUp = WARM_UP, runs = RUNS): number[] {
  for (let i = 0; i < warmUp; i++) work();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    work();
    times.push(performance.now() - start);
  }
  return times;
}

export function stats(times: number[]): { p50: number; p99: number; mean: number } {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * (sorted.length - 1)))]!;
  return { p50: at(0.5), p99: at(0.99), mean: sorted.reduce((sum, t) => sum + t, 0) / sorted.length };
}

/** What a naive reader does: headings and checkbox lines by regex, fences toggled, nothing else. */
export function regexScan(text: string): { phases: number; open: number } {
  let phases = 0;
  let open = 0;
  let fenced = false;
  for (const line of text.split(/\r?\n/)) {
    if (/^\s{0,3}(```|~~~)/.test(line)) fenced = !fenced;
    else if (fenced) continue;
    else if (/^#{1,6}\s+Phase\s+(\d+(\.\d+)*[a-z]?|[A-Z])\b/.test(line)) phases++;
    else if (/^\s*[-*+]\s+\[ \]\s/.test(line)) open++;
  }
  return { phases, open };
}

function countTasks(text: string): number {
  return text.split('\n').filter((line) => /^\s*[-*+] \[[ xX~-]\] /.test(line)).length;
}

/**
 * A tasks.md shaped like Spec Kit's output at scale: user-story phases with purpose and checkpoint text,
 * test and implementation subsections, markers, file paths, bold and suffixed ids, nested children,
 * fenced examples, done work before open work, and the closing dependency section.
 */
export function buildTasksFile(targetBytes: number): string {
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  const verbs = ['Create', 'Implement', 'Add', 'Wire', 'Validate', 'Document', 'Refactor', 'Test'];
  const things = ['RunService', 'step state model', 'GraphQL resolver', 'retry policy', 'credential preflight', 'event log reader'];
  const paths = ['src/services/run_service.py', 'src/models/step.py', 'tests/contract/test_runs.py', 'src/api/resolvers.ts', 'web/src/App.tsx'];
  const out: string[] = [
    '# Tasks: Durable chain workflow',
    '',
    '**Input**: Design documents from `/specs/001-chain-workflow/`',
    '**Prerequisites**: plan.md (required), spec.md (required for user stories), research.md, data-model.md, contracts/',
    '',
    '## Format: `[ID] [P?] [Story] Description`',
    '',
  ];
  let size = out.join('\n').length;
  let task = 0;
  let phase = 0;
  const push = (line: string) => {
    out.push(line);
    size += line.length + 1;
  };
  while (size < targetBytes - 2_000) {
    phase++;
    const done = size < targetBytes * 0.6;
    push(`## Phase ${phase}: User Story ${phase} - ${pick(things)} end to end (Priority: P${1 + (phase % 3)})${phase === 3 ? ' 🎯 MVP' : ''}`);
    push('');
    push(`**Goal**: An operator can use the ${pick(things)} without reading the code.`);
    push('');
    push(`**Independent Test**: Run \`pytest tests/integration/test_story_${phase}.py\` and see it pass.`);
    push('');
    for (const section of ['Tests', 'Implementation']) {
      push(`### ${section} for User Story ${phase}`);
      push('');
      const count = 6 + Math.floor(random() * 10);
      for (let i = 0; i < count; i++) {
        task++;
        const id = random() < 0.1 ? `**T${String(task).padStart(3, '0')}**` : `T${String(task).padStart(3, '0')}${random() < 0.05 ? 'a' : ''}`;
        const box = done || random() < 0.3 ? '[X]' : random() < 0.05 ? '[-]' : '[ ]';
        const markers = `${random() < 0.4 ? ' [P]' : ''} [US${phase}]`;
        push(`- ${box} ${id}${markers} ${pick(verbs)} the ${pick(things)} in ${pick(paths)} (depends on T${String(Math.max(1, task - 1)).padStart(3, '0')})`);
        if (random() < 0.1) push(`  - ${box} ${pick(verbs)} edge cases of the ${pick(things)}`);
      }
      push('');
    }
    if (random() < 0.2) push('```bash\n# Phase example, not a heading\n- [ ] not a task\npytest -q\n```\n');
    push(`**Checkpoint**: User Story ${phase} works on its own.`);
    push('');
    push('---');
    push('');
  }
  push('## Dependencies & Execution Order');
  push('');
  push('### Phase Dependencies');
  push('');
  push('- **Setup (Phase 1)**: No dependencies - can start immediately');
  return out.join('\n') + '\n';
}
