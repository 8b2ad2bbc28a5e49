import { downloadArtifact, graphql } from './api.js';
import {
  ACTIVE_STATUSES,
  CANCEL_MUTATION,
  GRAPHIQL_WATCH,
  RETRY_MUTATION,
  RUN_QUERY,
  RUN_UPDATED,
  RUN_WAIT_QUERY,
  START_MUTATION,
  type Artifact,
  type RunDetail,
  type RunEvent,
  type UserError,
  type Wait,
} from './documents.js';
import { bytes, facts, h, outsideLink, runLink, sandboxBadge, stateBadge, time, waitText } from './dom.js';
import { describe, liveText, userErrorList, type Frame, type Page } from './frame.js';
import { watch, type Watch } from './live.js';
import { eventRow, timeline } from './timeline.js';

type Mutation = { run: { id: string } | null; userErrors: UserError[] };

/**
 * /runs/<id>: the run's header, its five steps as a live timeline, outputs, artifacts, the event log and,
 * on failure, what went wrong and the retry buttons. Fed by runUpdated from the last version shown.
 */
export function mountRunPage(frame: Frame, runId: string): Page {
  let run: RunDetail | null = null;
  let lastVersion = 0;
  let subscription: Watch | null = null;
  let disposed = false;

  const sections = {
    summary: h('section', { class: 'summary', 'aria-labelledby': 'run-title' }),
    failure: h('section', { class: 'failure', 'aria-labelledby': 'failure-title', hidden: true }),
    review: h('section', { class: 'review', 'aria-labelledby': 'review-title', hidden: true }),
    steps: h('section', { 'aria-labelledby': 'steps-title' }, h('h2', { id: 'steps-title' }, 'Steps')),
    outputs: h('section', { 'aria-labelledby': 'outputs-title' }),
    events: h('section', { 'aria-labelledby': 'events-title' }),
  };
  const actionOutput = h('div', { class: 'action-output', 'aria-live': 'polite' });
  // One lasting live region: the summary is redrawn on change, and a replaced region is not reliably read out.
  const announcer = h('p', { class: 'visually-hidden', 'aria-live': 'polite' });
  let announced = '';
  const eventBody = h('tbody');
  sections.events.append(
    h('h2', { id: 'events-title' }, 'Event log'),
    h('div', { class: 'table-wrap' },
      h('table', { class: 'events' }, h('caption', { class: 'visually-hidden' }, 'Every transition of this run, oldest first'),
        h('thead', {}, h('tr', {}, ...['#', 'time', 'step', 'attempt', 'transition', 'message'].map((c) => h('th', { scope: 'col' }, c)))),
        eventBody,
      ),
    ),
  );
  frame.main.replaceChildren(h('p', { class: 'muted' }, `Loading run ${runId}…`));

  /** Replaces a section's content only when what it shows changed, so focus and open details survive updates. */
  const show = (section: HTMLElement, key: unknown, build: () => (Node | string | null)[]) => {
    const k = JSON.stringify(key);
    if (section.dataset.key === k) return;
    section.dataset.key = k;
    section.replaceChildren(...build().filter((n): n is Node | string => n !== null));
  };

  const addEvents = (events: RunEvent[]) => {
    for (const e of events) {
      if (e.version <= lastVersion) continue; // a replay after reconnecting: already shown
      eventBody.append(eventRow(e));
      lastVersion = e.version;
    }
  };

  const render = () => {
    if (!run) return;
    const r = run;
    document.title = `spec-chain · run ${r.id.slice(0, 8)} · ${r.status}`;
    const news = `Run ${r.status}${r.currentStep && ACTIVE_STATUSES.includes(r.status) ? ` at ${r.currentStep}` : ''}`;
    if (news !== announced) announcer.textContent = announced = news;
    show(sections.summary, [r.status, r.statusMessage, r.currentStep, r.phase, r.featureId, r.finishedAt, r.codexEnvironment, r.waitingFor], () => summary(r));
    followWait();
    sections.failure.hidden = !r.failure;
    show(sections.failure, [r.failure, r.status], () => (r.failure ? failurePanel(r) : []));
    sections.review.hidden = r.status !== 'IN_REVIEW';
    show(sections.review, [r.status, r.outputs, r.phase], () => (r.status === 'IN_REVIEW' ? reviewPanel(r) : []));
    show(sections.steps, r.steps, () => [h('h2', { id: 'steps-title' }, 'Steps'), timeline(r.steps)]);
    show(sections.outputs, [r.outputs, r.artifacts], () => outputs(r));
  };

  const summary = (r: RunDetail): (Node | null)[] => [
    r.sandbox
      ? h('p', { class: 'sandbox-banner', role: 'note' }, sandboxBadge(), ' Sandbox run: Codex Cloud and GitHub were emulated on this machine. No real repository or pull request was touched.')
      : null,
    h('h1', { id: 'run-title' }, `Run ${r.id.slice(0, 8)} `, r.sandbox ? sandboxBadge() : null),
    h('p', { class: 'status-line' }, 'Status: ', stateBadge(r.status), r.currentStep && ACTIVE_STATUSES.includes(r.status) ? ` at ${r.currentStep}` : '', r.statusMessage ? ` — ${r.statusMessage}` : ''),
    r.waitingFor ? h('p', { class: 'waiting', 'data-reason': r.waitingFor.reason }, 'Waiting: ', waitText(r.waitingFor)) : null,
    facts([
      ['Run id', h('code', {}, r.id)],
      ['Repository', r.repository],
      ['Feature', r.featureId ?? 'from .specify/feature.json'],
      ['Phase', r.phase ? `${r.phase.id} · ${r.phase.title} (${r.phase.openTaskCount} open, ${r.phase.doneTaskCount} done)` : 'not discovered yet'],
      ['Base branch', r.baseBranch !== r.rootBranch ? `${r.baseBranch} (asked for ${r.rootBranch})` : r.baseBranch],
      ['Stacked on', r.stackedOn ? stackedOn(r.stackedOn) : r.stack ? 'asked to stack; no phase was in review' : null],
      ['Revises', r.revises ? outsideLink(r.revises.url, `pull request #${r.revises.number}`) : null],
      ['Phase asked for', r.phaseRequest],
      ['Notes for Codex', r.notes ? h('span', { class: 'notes' }, r.notes) : null],
      ['Codex environment', r.codexEnvironment],
      ['Codex best-of-N', r.codexBestOfN > 1 ? String(r.codexBestOfN) : null],
      ['Created', time(r.createdAt)],
      ['Finished', r.finishedAt ? time(r.finishedAt) : null],
      ['Retry of', r.retryOf ? runLink(r.retryOf) : null],
    ]),
    h(
      'div',
      { class: 'actions' },
      ACTIVE_STATUSES.includes(r.status) ? h('button', { type: 'button', class: 'danger', onclick: cancel }, 'Cancel run') : null,
      r.status === 'CANCELLED' && !r.failure ? h('button', { type: 'button', onclick: () => retry('RESTART') }, 'Restart from discovery') : null,
      h('a', { href: `/?${new URLSearchParams({ query: GRAPHIQL_WATCH, variables: JSON.stringify({ runId: r.id, afterVersion: 0 }, null, 2) })}` }, 'Watch in GraphiQL'),
    ),
  ];

  const stackedOn = (on: NonNullable<RunDetail['stackedOn']>): HTMLElement =>
    h('span', {}, ...[on, ...[...on.below].reverse()].flatMap((p, i) => [i ? ', on ' : '', outsideLink(p.pullRequest.url, `#${p.pullRequest.number}`), ` (Phase ${p.phaseId})`]), ` · `, h('code', {}, on.branch));

  /** A notes box and its button: what the operator tells Codex, sent with the mutation. */
  const notesForm = (label: string, button: string, send: (notes: string) => void): HTMLElement => {
    const area = h('textarea', { name: 'notes', rows: 4, required: true, maxlength: 20000 }) as HTMLTextAreaElement;
    return h(
      'form',
      { class: 'notes-form', onsubmit: (ev: Event) => (ev.preventDefault(), area.value.trim() ? send(area.value) : say('Write the notes first.', 'error')) },
      h('label', {}, label, area),
      h('button', { type: 'submit' }, button),
    );
  };

  /** IN_REVIEW: the phase waits for its pull request; the ways on from here. */
  const reviewPanel = (r: RunDetail): Node[] => {
    const o = r.outputs;
    const pr = o.pullRequestUrl ? outsideLink(o.pullRequestUrl, `pull request #${o.pullRequestNumber}`) : 'its pull request';
    const phase = r.phase ? `Phase ${r.phase.id}` : 'This phase';
    const base = { repository: r.repository, featureId: r.featureId, credentialSetId: r.credentialSetId, baseBranch: r.rootBranch };
    return [
      h('h2', { id: 'review-title' }, `◎ ${phase} is in review`),
      h('p', {}, `Nothing was sent to Codex and nothing was pushed: ${phase.toLowerCase()} already has `, pr, ' open.'),
      h('h3', {}, 'What to do next'),
      h(
        'ol',
        { class: 'next-steps' },
        h('li', {}, 'Review and merge ', pr, '; then start this feature again and the next phase runs.'),
        h('li', {}, 'Or work on the next phase now, on top of this one (its pull request goes into this phase’s branch): ',
          h('button', { type: 'button', onclick: () => startFrom('Start stacked', { ...base, stack: true }) }, 'Start the next phase stacked')),
        r.phase
          ? h('li', {}, 'Or ask for changes to this phase: Codex gets the pull request’s diff and your notes, and the pull request gets one more commit.',
              notesForm('Notes for Codex', `Revise pull request #${o.pullRequestNumber ?? ''} with these notes`, (notes) =>
                startFrom('Revise', { ...base, phaseId: r.phase!.id, notes }),
              ))
          : null,
      ),
    ];
  };

  async function startFrom(name: string, input: Record<string, unknown>) {
    const result = await act(name, START_MUTATION, input);
    if (result?.run && !result.userErrors.length) location.assign(`/runs/${encodeURIComponent(result.run.id)}`);
  }

  const failurePanel = (r: RunDetail): Node[] => {
    const f = r.failure!;
    const canRetry = !ACTIVE_STATUSES.includes(r.status);
    return [
      h('h2', { id: 'failure-title' }, `✗ Failed${f.step ? ` at ${f.step}` : ''}: ${f.code}`),
      facts([
        ['Code', h('code', { class: 'failure-code' }, f.code)],
        ['Step', f.step ?? 'run'],
        ['What happened', h('span', { class: 'failure-message' }, f.message)],
        ['What to do', h('span', { class: 'remediation' }, f.remediation)],
        ['Retry modes allowed', f.retryModes.join(', ') || 'none'],
        ['Why', h('span', { class: 'retry-advice' }, f.retryAdvice)],
      ]),
      canRetry
        ? h(
            'div',
            { class: 'actions' },
            f.retryModes.includes('RESUME') && f.notesRequired
              ? notesForm('Your answer for Codex (its message is above)', 'RESUME with these notes', (notes) => retry('RESUME', notes))
              : f.retryModes.includes('RESUME')
                ? h('button', { type: 'button', onclick: () => retry('RESUME') }, `RESUME from ${f.step ?? 'the failed step'}`)
                : null,
            f.retryModes.includes('RESTART') ? h('button', { type: 'button', onclick: () => retry('RESTART') }, 'RESTART as a new run…') : null,
          )
        : h('p', { class: 'muted' }, 'A retry is under way.'),
    ];
  };

  const outputs = (r: RunDetail): Node[] => {
    const o = r.outputs;
    const outside = (kind: string) => r.artifacts.find((a) => a.kind === kind && /^https?:\/\//.test(a.url))?.url;
    const branchUrl = outside('BRANCH');
    const stored = r.artifacts.filter((a) => !/^https?:\/\//.test(a.url));
    return [
      h('h2', { id: 'outputs-title' }, 'Outputs'),
      facts([
        ['Codex task', o.codexTaskId ? (o.codexTaskUrl ? outsideLink(o.codexTaskUrl, o.codexTaskId) : o.codexTaskId) : null],
        ['Branch', o.branch ? (branchUrl ? outsideLink(branchUrl, o.branch) : h('code', {}, o.branch)) : null],
        ['Commit', o.commitSha ? h('code', {}, o.commitSha.slice(0, 12)) : null],
        ['Pull request', o.pullRequestUrl ? h('span', { class: 'pull-request' }, outsideLink(o.pullRequestUrl, `#${o.pullRequestNumber ?? ''} ${o.pullRequestUrl}`)) : null],
      ]),
      o.codexTaskId || o.branch || o.pullRequestUrl ? null : h('p', { class: 'muted' }, 'No outputs yet.'),
      h('h3', {}, 'Artifacts'),
      stored.length ? artifactTable(stored) : h('p', { class: 'muted' }, 'No stored artifacts yet.'),
    ].filter((n): n is HTMLElement => n !== null);
  };

  const artifactTable = (artifacts: Artifact[]): HTMLElement =>
    h('div', { class: 'table-wrap' }, h('table', { class: 'artifacts' },
      h('thead', {}, h('tr', {}, ...['kind', 'step', 'attempt', 'size', 'sha256', ''].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, ...artifacts.map((a) =>
        h('tr', { 'data-kind': a.kind },
          h('td', {}, a.kind), h('td', {}, a.step), h('td', { class: 'num' }, a.attempt), h('td', { class: 'num' }, bytes(a.size)),
          h('td', {}, a.sha256 ? h('code', { title: a.sha256 }, a.sha256.slice(0, 12)) : '—'),
          h('td', {}, h('button', { type: 'button', class: 'link', onclick: (ev: Event) => download(ev, a) }, `Download ${a.kind.toLowerCase()}`)),
        ),
      )),
    ));

  async function download(ev: Event, a: Artifact) {
    const button = ev.currentTarget as HTMLButtonElement;
    button.disabled = true;
    try {
      await downloadArtifact(a.url, `${a.kind.toLowerCase()}-${a.id}`);
      say(`Downloaded ${a.kind} (${bytes(a.size)}).`);
    } catch (error) {
      say(describe(error), 'error');
    } finally {
      button.disabled = false;
    }
  }

  function say(message: string, kind: 'info' | 'error' = 'info', errors: UserError[] = []) {
    actionOutput.replaceChildren(h('p', { class: kind }, message), ...[userErrorList(errors)].filter((n): n is HTMLElement => n !== null));
  }

  async function act(name: string, query: string, input: Record<string, unknown>): Promise<Mutation | null> {
    say(`${name}…`);
    try {
      const data = await graphql<Record<string, Mutation>>(query, { input });
      const result = Object.values(data)[0]!;
      if (result.userErrors.length) say(`${name} was refused.`, 'error', result.userErrors);
      return result;
    } catch (error) {
      say(`${name} failed: ${describe(error)}`, 'error');
      return null;
    }
  }

  async function cancel() {
    if (!confirm('Cancel this run? Queued steps are dropped and the running step is told to stop.')) return;
    const result = await act('Cancel', CANCEL_MUTATION, { runId });
    if (result?.run && !result.userErrors.length) say('Cancel requested: the step in progress is being stopped.');
  }

  /** A place in line moves while the run itself has no event: read it again every few seconds while it waits. */
  let waitTimer: ReturnType<typeof setTimeout> | undefined;
  function followWait() {
    clearTimeout(waitTimer);
    if (!run?.waitingFor || disposed) return;
    waitTimer = setTimeout(async () => {
      const data = await graphql<{ run: { status: string; waitingFor: Wait | null } | null }>(RUN_WAIT_QUERY, { id: runId }).catch(() => null);
      if (data?.run && run && !disposed) {
        run = { ...run, waitingFor: data.run.waitingFor };
        render();
      }
    }, 3000);
  }

  /** Live updates from the last version shown; the server ends them after the run's final transition. */
  function follow() {
    subscription?.stop();
    subscription = watch<{ runUpdated: { version: number; event: RunEvent; run: RunDetail } }>({
      query: RUN_UPDATED,
      variables: () => ({ runId, afterVersion: lastVersion }),
      onData: ({ runUpdated: u }) => {
        if (u.version <= lastVersion) return;
        addEvents([u.event]);
        run = u.run;
        render();
      },
      onState: (state) => frame.live(state, state.kind === 'retrying' ? `, resuming after event ${lastVersion}` : ''),
      onComplete: () => (run && !ACTIVE_STATUSES.includes(run.status) ? `the run ended ${run.status}.` : null),
    });
  }

  async function retry(mode: 'RESUME' | 'RESTART', notes?: string) {
    if (mode === 'RESTART' && !confirm('RESTART starts a new run from discovery and submits a new Codex task. Start it?')) return;
    const result = await act(mode, RETRY_MUTATION, { runId, mode, ...(mode === 'RESTART' ? { confirmRestart: true } : {}), ...(notes ? { notes } : {}) });
    if (!result?.run || result.userErrors.length) return;
    if (mode === 'RESTART') location.assign(`/runs/${encodeURIComponent(result.run.id)}`);
    else {
      say(notes ? 'Resumed: the phase goes to Codex again with your notes, as a new SUBMIT attempt.' : `Resumed: ${run?.failure?.step ?? 'the failed step'} runs again as a new attempt.`);
      follow();
    }
  }

  (async () => {
    try {
      const data = await graphql<{ run: (RunDetail & { events: RunEvent[] }) | null }>(RUN_QUERY, { id: runId });
      if (disposed) return;
      if (!data.run) {
        frame.main.replaceChildren(h('h1', {}, 'Run not found'), h('p', {}, `No run has the id ${runId}. `, h('a', { href: '/runs' }, 'See all runs'), '.'));
        return;
      }
      const { events, ...detail } = data.run;
      run = detail;
      frame.main.replaceChildren(announcer, sections.summary, actionOutput, sections.failure, sections.review, sections.steps, sections.outputs, sections.events);
      addEvents(events);
      render();
      follow();
    } catch (error) {
      if (disposed) return;
      frame.notice(describe(error));
      frame.main.replaceChildren(h('h1', {}, `Run ${runId}`), h('p', {}, 'This run could not be loaded: see the message above.'));
    }
  })();

  return {
    dispose() {
      disposed = true;
      clearTimeout(waitTimer);
      subscription?.stop();
    },
  };
}
