import { h, stateBadge, time } from './dom.js';
import { STEPS, type RunEvent, type RunStep, type Step } from './documents.js';

/** What each step does, in the operator's words. */
const PURPOSE: Record<Step, string> = {
  DISCOVER: 'Find the next open phase in tasks.md',
  SUBMIT: 'Send the phase to Codex Cloud as a task',
  APPLY: 'Wait for Codex’s diff and apply it to a fresh worktree',
  PUBLISH: 'Push the branch and open or update the pull request',
  FINALIZE: 'Record the outcome and the artifacts',
};

/** The five steps in chain order; a step with no attempt yet reads "not started". */
export function timeline(steps: RunStep[]): HTMLElement {
  const byStep = new Map(steps.map((s) => [s.step, s]));
  return h('ol', { class: 'timeline' }, ...STEPS.map((step, i) => stepItem(i + 1, step, byStep.get(step))));
}

function stepItem(position: number, step: Step, s: RunStep | undefined): HTMLElement {
  const state = s?.state ?? 'PENDING';
  const when: [string, HTMLElement | string][] = [];
  if (s?.queuedAt) when.push(['queued', time(s.queuedAt)]);
  if (s?.startedAt) when.push(['started', time(s.startedAt)]);
  if (s?.finishedAt) when.push(['finished', time(s.finishedAt)]);
  if (s?.nextAttemptAt && (state === 'RETRYING' || state === 'WAITING')) when.push(['next try', time(s.nextAttemptAt)]);
  return h(
    'li',
    { class: `step state-${state.toLowerCase()}`, 'data-step': step, 'data-state': state },
    h('div', { class: 'step-head' }, h('h3', {}, `${position}. ${step}`), stateBadge(state), s ? null : h('span', { class: 'muted' }, 'not started')),
    h('p', { class: 'purpose' }, PURPOSE[step]),
    s ? h('p', { class: 'attempt' }, `attempt ${s.attempt} · ${s.tries} ${s.tries === 1 ? 'try' : 'tries'}`) : null,
    when.length ? h('p', { class: 'times' }, ...when.flatMap(([label, value], i) => [i ? ' · ' : '', `${label} `, value])) : null,
    s?.message ? h('p', { class: 'message' }, s.message) : null,
    s?.notes ? h('blockquote', { class: 'notes' }, h('strong', {}, 'Operator notes: '), s.notes) : null,
    s?.errorCode ? h('p', { class: 'error-code' }, 'error ', h('code', {}, s.errorCode)) : null,
  );
}

/** One row of the event log; the payload's message reads inline, the rest is one click away. */
export function eventRow(e: RunEvent): HTMLElement {
  const { message, ...rest } = e.payload;
  const extra = Object.keys(rest).length ? h('details', {}, h('summary', {}, 'payload'), h('pre', {}, JSON.stringify(rest, null, 2))) : null;
  return h(
    'tr',
    { 'data-version': e.version },
    h('td', { class: 'num' }, e.version),
    h('td', {}, time(e.at)),
    h('td', {}, e.step ?? 'run'),
    h('td', { class: 'num' }, e.attempt ?? ''),
    h('td', {}, e.from ? `${e.from} → ${e.to}` : e.to),
    h('td', {}, typeof message === 'string' ? message : '', extra),
  );
}
