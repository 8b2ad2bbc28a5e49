import { graphql } from './api.js';
import { CREDENTIAL_SETS_QUERY, RUNS_QUERY, RUNS_UPDATED, START_MUTATION, type CredentialSet, type RunSummary, type UserError } from './documents.js';
import { h, outsideLink, runLink, sandboxBadge, stateBadge, time, waitText } from './dom.js';
import { describe, userErrorList, type Frame, type Page } from './frame.js';
import { watch, type Watch } from './live.js';

const PAGE_SIZE = 25;

type RunsPage = { runs: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: RunSummary }[] } };

/** /runs: every run, newest first, kept current by runsUpdated; and the form that starts the next phase. */
export function mountRunsPage(frame: Frame): Page {
  const runs = new Map<string, RunSummary>();
  let totalCount = 0;
  let endCursor: string | null = null;
  let hasNextPage = false;
  let subscription: Watch | null = null;
  let disposed = false;

  const body = h('tbody');
  const count = h('p', { class: 'muted', 'aria-live': 'polite' });
  const more = h('button', { type: 'button', hidden: true, onclick: () => void load(true) }, 'Show older runs');
  const form = startForm();
  frame.main.replaceChildren(
    h('h1', {}, 'Runs'),
    form,
    h('section', { 'aria-labelledby': 'runs-title' },
      h('h2', { id: 'runs-title' }, 'All runs, newest first'),
      count,
      h('div', { class: 'table-wrap' },
        h('table', { class: 'runs' },
          h('thead', {}, h('tr', {}, ...['run', 'status', 'repository', 'feature', 'phase', 'started', 'links'].map((c) => h('th', { scope: 'col' }, c)))),
          body,
        ),
      ),
      more,
    ),
  );

  const render = () => {
    const sorted = [...runs.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
    body.replaceChildren(...sorted.map(row));
    count.textContent = totalCount ? `${runs.size} of ${totalCount} shown.` : 'No runs yet: start one with the form above.';
    more.hidden = !hasNextPage;
  };

  async function load(older: boolean) {
    try {
      const data = await graphql<RunsPage>(RUNS_QUERY, { first: PAGE_SIZE, after: older ? endCursor : null });
      if (!older) runs.clear();
      for (const { node } of data.runs.edges) runs.set(node.id, node);
      totalCount = data.runs.totalCount;
      ({ endCursor, hasNextPage } = data.runs.pageInfo);
      render();
      frame.notice(null);
    } catch (error) {
      frame.notice(describe(error));
      throw error;
    }
  }

  load(false)
    .then(() => {
      if (disposed) return;
      subscription = watch<{ runsUpdated: RunSummary }>({
        query: RUNS_UPDATED,
        variables: () => ({}),
        onData: ({ runsUpdated: run }) => {
          if (!runs.has(run.id)) totalCount += 1;
          runs.set(run.id, run);
          render();
        },
        onState: (state) => frame.live(state),
        // runsUpdated cannot resume: read the first page again so nothing missed while away stays missing.
        beforeResubscribe: () => load(false),
      });
    })
    .catch(() => {});

  return {
    dispose() {
      disposed = true;
      subscription?.stop();
    },
  };
}

function row(run: RunSummary): HTMLElement {
  return h(
    'tr',
    { 'data-run': run.id, 'data-status': run.status },
    h('td', {}, runLink(run.id), run.sandbox ? ' ' : null, run.sandbox ? sandboxBadge() : null),
    h(
      'td',
      {},
      stateBadge(run.status),
      run.currentStep && ['QUEUED', 'RUNNING'].includes(run.status) ? ` ${run.currentStep}` : '',
      run.waitingFor ? h('span', { class: 'waiting' }, ` — ${waitText(run.waitingFor)}`) : null,
    ),
    h('td', {}, run.repository),
    h('td', {}, run.featureId ?? '—'),
    h('td', {}, run.phase ? `${run.phase.id} · ${run.phase.title}` : '—'),
    h('td', {}, time(run.createdAt)),
    h('td', { class: 'links' }, ...links(run)),
  );
}

/** The run's outside links: its pull request and its Codex task, once it has them. */
function links(run: RunSummary): (HTMLElement | string)[] {
  const { pullRequestUrl, pullRequestNumber, codexTaskUrl } = run.outputs;
  const found = [
    pullRequestUrl ? outsideLink(pullRequestUrl, `pull request #${pullRequestNumber ?? ''}`) : null,
    codexTaskUrl ? outsideLink(codexTaskUrl, 'Codex task') : null,
  ].filter((a): a is HTMLElement => a !== null);
  return found.length ? found.flatMap((a, i) => (i ? [' · ', a] : [a])) : ['—'];
}

/** The operator's form: repository, feature, credential set (from credentialSets), and optionally a Codex environment, a phase, stacking and notes. */
function startForm(): HTMLElement {
  const field = (id: string, label: string, control: HTMLElement, hint?: string) =>
    h('div', { class: 'field' }, h('label', { for: id }, label), control, hint ? h('small', { id: `${id}-hint` }, hint) : null);
  const repository = h('input', { id: 'start-repository', name: 'repository', required: true, placeholder: 'owner/name', autocomplete: 'off' });
  const featureId = h('input', { id: 'start-feature', name: 'featureId', placeholder: '001-name', autocomplete: 'off', 'aria-describedby': 'start-feature-hint' });
  const credentialSet = h('select', { id: 'start-credentials', name: 'credentialSetId', required: true }, h('option', { value: '' }, 'loading…'));
  const environment = h('input', { id: 'start-environment', name: 'codexEnvironment', autocomplete: 'off', 'aria-describedby': 'start-environment-hint' });
  const stack = h('input', { id: 'start-stack', name: 'stack', type: 'checkbox', 'aria-describedby': 'start-stack-hint' });
  const phaseId = h('input', { id: 'start-phase', name: 'phaseId', placeholder: '3', autocomplete: 'off', 'aria-describedby': 'start-phase-hint' });
  const confirmRedo = h('input', { id: 'start-redo', name: 'confirmRedo', type: 'checkbox' });
  const notes = h('textarea', { id: 'start-notes', name: 'notes', rows: 3, maxlength: 20000, 'aria-describedby': 'start-notes-hint' });
  const submit = h('button', { type: 'submit' }, 'Start the next phase');
  const output = h('div', { class: 'action-output', 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'start', 'aria-labelledby': 'start-title' },
    h('h2', { id: 'start-title' }, 'Start the next phase'),
    h('p', { class: 'muted' }, 'Discovers the next open phase of the feature’s tasks.md, sends it to Codex and opens a pull request. Needs an operator token.'),
    h('div', { class: 'fields' },
      field('start-repository', 'Repository', repository),
      field('start-feature', 'Feature id (optional)', featureId, 'Empty: the repository’s .specify/feature.json decides.'),
      field('start-credentials', 'Credential set', credentialSet),
      field('start-environment', 'Codex environment (optional)', environment, 'Empty: the credential set’s environment.'),
      field('start-phase', 'Phase id (optional)', phaseId, 'Empty: the next open phase. A phase in review with notes gets one more commit on its pull request.'),
      field('start-redo', 'Redo a phase with no open task', confirmRedo),
      field('start-stack', 'Stack on the newest phase in review', stack, 'Runs the phase after it on top of its branch, with the pull request into that branch.'),
      field('start-notes', 'Notes for Codex (optional)', notes, 'Sent to Codex with the phase.'),
    ),
    submit,
    output,
  );

  graphql<{ credentialSets: CredentialSet[] }>(CREDENTIAL_SETS_QUERY)
    .then(({ credentialSets }) => {
      credentialSet.replaceChildren(
        h('option', { value: '' }, credentialSets.length ? 'choose…' : 'none: an admin creates one with createCredentialSet'),
        ...credentialSets.map((c) =>
          h('option', { value: c.id }, `${c.name}${c.sandbox ? ' (sandbox)' : ''}${c.repositories.length ? ` — ${c.repositories.join(', ')}` : ''}${c.validationIssues.length ? ' ⚠ has issues' : ''}`),
        ),
      );
      if (credentialSets.length === 1) credentialSet.value = credentialSets[0]!.id;
    })
    .catch((error) => credentialSet.replaceChildren(h('option', { value: '' }, `unavailable: ${describe(error)}`)));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    output.replaceChildren(h('p', {}, 'Starting…'));
    const input = {
      repository: repository.value.trim(),
      credentialSetId: credentialSet.value,
      ...(featureId.value.trim() ? { featureId: featureId.value.trim() } : {}),
      ...(environment.value.trim() ? { codexEnvironment: environment.value.trim() } : {}),
      ...(phaseId.value.trim() ? { phaseId: phaseId.value.trim() } : {}),
      ...(confirmRedo.checked ? { confirmRedo: true } : {}),
      ...(stack.checked ? { stack: true } : {}),
      ...(notes.value.trim() ? { notes: notes.value } : {}),
    };
    try {
      const { startSpecPhase: r } = await graphql<{ startSpecPhase: { run: { id: string } | null; userErrors: UserError[] } }>(START_MUTATION, { input });
      if (r.userErrors.length || !r.run) output.replaceChildren(h('p', { class: 'error' }, 'The run was not started:'), userErrorList(r.userErrors) ?? '');
      else output.replaceChildren(h('p', {}, 'Run started: ', runLink(r.run.id, `open run ${r.run.id.slice(0, 8)}`), '.'));
    } catch (error) {
      output.replaceChildren(h('p', { class: 'error', role: 'alert' }, describe(error)));
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}
