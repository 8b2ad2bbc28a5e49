import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { branchesOf, fileAt, parentsOf, pushCommitTo, revParse } from '../support/repo.js';
import { gql, TOKENS } from '../support/service.js';
import { startWorld, type World } from '../support/world.js';

/**
 * The phase workflow as operators live it, end to end: phases in review are not redone, stacked phases
 * build on the branch below, operators answer Codex with notes, and the sandbox takes a feature to its
 * end through the GitHub emulator's pull request page.
 */

const REPO = 'sandbox/widgets';
const TASKS = 'specs/001-greeting/tasks.md';
const phaseBranch = (id: string) => `spec-chain/001-greeting/phase-${id}`;

const RETRY = `mutation($input: RetryRunInput!) { retryRun(input: $input) { run { id status } userErrors { code field message } } }`;
const DETAIL = `query($id: ID!) { run(id: $id) {
  baseBranch rootBranch stack phaseRequest notes
  stackedOn { phaseId branch headSha pullRequest { number url } below { phaseId pullRequest { number } } }
  revises { number url }
  stepAttempts { step attempt state notes message }
  events { step attempt to payload }
} }`;

const detail = async (world: World, id: string) => (await gql(world.svc.url, DETAIL, { id }, TOKENS.viewer)).body.data.run;
const retry = (world: World, input: Record<string, unknown>) => gql(world.svc.url, RETRY, { input }, TOKENS.operator).then((r) => r.body.data.retryRun);
const pullRequestOf = (world: World, branch: string) => world.sandbox.github.pullRequests(REPO).filter((p) => p.headRefName === branch);
const createdPrompts = (world: World) =>
  world.sandbox.codex
    .requests()
    .filter((q) => q.method === 'POST' && q.path.endsWith('/wham/tasks'))
    .map((q) => JSON.stringify(q.body));

async function runToEnd(world: World, input: Record<string, unknown> = {}) {
  const { run, userErrors } = await world.start(input);
  expect(userErrors).toEqual([]);
  return world.waitFor(run.id);
}

/** Merges a pull request as a person would: the merge button of its page at the url the run stored. */
async function mergeOnItsPage(url: string): Promise<void> {
  const page = await fetch(url, { headers: { accept: 'text/html' } });
  expect(await page.text()).toContain('Merge pull request');
  const merged = await fetch(`${url}/merge`, { method: 'POST', redirect: 'manual' });
  expect(merged.status).toBe(303);
  const after = await fetch(new URL(merged.headers.get('location')!, `${url}/merge`), { headers: { accept: 'text/html' } });
  const html = await after.text();
  expect(html).not.toContain('role="alert"');
  expect(html).toContain('data-state="MERGED"');
}

describe('stacked phases and notes', () => {
  let world: World;
  let bare: string;
  beforeAll(async () => {
    world = await startWorld();
    bare = world.demoRepository;
  });
  afterAll(async () => world?.close());

  let phase1: { number: number; url: string };

  test('a phase with an open pull request is not redone: the second start ends IN_REVIEW with no Codex task', async () => {
    const first = await runToEnd(world);
    expect(first.status).toBe('SUCCEEDED');
    expect(first.phase.id).toBe('1');
    phase1 = { number: first.outputs.pullRequestNumber, url: first.outputs.pullRequestUrl };
    const head = await revParse(bare, phaseBranch('1'));
    const tasks = world.codexTasksCreated();

    const second = await runToEnd(world);
    expect(second.status).toBe('IN_REVIEW');
    expect(second.statusMessage).toContain(`pull request #${phase1.number} (${phase1.url}) is open`);
    expect(second.statusMessage).toMatch(/stack: true/);
    expect(second.outputs).toMatchObject({ pullRequestNumber: phase1.number, pullRequestUrl: phase1.url, branch: phaseBranch('1'), codexTaskId: null });
    expect(world.codexTasksCreated()).toBe(tasks);
    expect(await revParse(bare, phaseBranch('1'))).toBe(head);
  });

  test('stack: true runs Phase 2 on the Phase 1 branch; NO_DIFF answered with notes goes on as the same run, with one pull request', async () => {
    world.sandbox.codex.script({ kind: 'no-diff', message: 'Should the normaliser also lower-case names?' });
    const failed = await runToEnd(world, { stack: true });
    expect(failed.status).toBe('FAILED');
    expect(failed.phase.id).toBe('2');
    expect(failed.failure).toMatchObject({ code: 'NO_DIFF', retryModes: ['RESUME', 'RESTART'], notesRequired: true });

    const bare1 = await retry(world, { runId: failed.id, mode: 'RESUME' });
    expect(bare1.userErrors[0]).toMatchObject({ code: 'NOTES_REQUIRED', field: 'notes' });
    const notes = 'No: keep names as typed, only trim them. (reply for run ' + failed.id.slice(0, 8) + ')';
    const resumed = await retry(world, { runId: failed.id, mode: 'RESUME', notes });
    expect(resumed.userErrors).toEqual([]);
    const done = await world.waitFor(failed.id);
    expect(done.status, JSON.stringify(done.failure)).toBe('SUCCEEDED');

    // The new SUBMIT attempt took the phase prompt, Codex's question and the notes to Codex.
    const sent = createdPrompts(world).at(-1)!;
    expect(sent).toContain('keep names as typed, only trim them');
    expect(sent).toContain('Should the normaliser also lower-case names?');
    expect(sent).toContain('Phase 2');
    const d = await detail(world, failed.id);
    expect(d.stepAttempts.filter((a: any) => a.step === 'SUBMIT').map((a: any) => [a.attempt, a.notes])).toEqual([
      [1, null],
      [2, notes],
    ]);
    expect(d.events.some((e: any) => e.step === 'SUBMIT' && e.attempt === 2 && JSON.stringify(e.payload).includes('keep names as typed'))).toBe(true);

    // Stacked: based on the Phase 1 branch, its pull request into that branch, linking Phase 1's.
    expect(d).toMatchObject({ rootBranch: 'main', baseBranch: phaseBranch('1'), stack: true });
    expect(d.stackedOn).toMatchObject({ phaseId: '1', branch: phaseBranch('1'), pullRequest: phase1, below: [] });
    const prs = pullRequestOf(world, phaseBranch('2'));
    expect(prs).toHaveLength(1);
    expect(prs[0]).toMatchObject({ number: done.outputs.pullRequestNumber, baseRefName: phaseBranch('1'), state: 'OPEN' });
    expect(prs[0]!.body).toContain(`#${phase1.number}`);
    expect(await parentsOf(bare, done.outputs.commitSha)).toEqual([d.stackedOn.headSha]);
    expect(d.stackedOn.headSha).toBe(await revParse(bare, phaseBranch('1')));
  });

  test('notes on a phase in review: Codex gets the pull request\'s diff and the notes, and the same pull request gets one more commit', async () => {
    const before = await revParse(bare, phaseBranch('1'));
    const prCount = world.sandbox.github.pullRequests(REPO).length;
    const notes = 'Please also export a default greeting.';
    const run = await runToEnd(world, { phaseId: '1', notes });
    expect(run.status, JSON.stringify(run.failure)).toBe('SUCCEEDED');
    expect(run.outputs.pullRequestNumber).toBe(phase1.number);
    expect(world.sandbox.github.pullRequests(REPO)).toHaveLength(prCount);

    const body = JSON.parse(createdPrompts(world).at(-1)!);
    const seeded = body.input_items.find((i: any) => i.type === 'pre_apply_patch');
    expect(seeded.output_diff.diff).toContain('specs/001-greeting/implemented/T001.md');
    expect(JSON.stringify(body)).toContain(notes);

    // One more commit on top of what the reviewer saw: the old head is its parent, nothing rewritten.
    const after = await revParse(bare, phaseBranch('1'));
    expect(after).toBe(run.outputs.commitSha);
    expect(await parentsOf(bare, after)).toEqual([before]);
    expect(await fileAt(bare, after, 'specs/001-greeting/implemented/operator-notes.md')).toContain('export a default greeting');
    const d = await detail(world, run.id);
    expect(d.revises).toEqual(phase1);
    expect(d.notes).toBe(notes);
  });

  test('a lower stacked branch moved meanwhile: the phase on top is rebased onto its new head', async () => {
    // Phase 1's branch moved in the last test: a stack now builds on Phase 2, whose branch we move during APPLY.
    world.sandbox.codex.script({ kind: 'implement', pendingPolls: 3 });
    const { run: started } = await world.start({ stack: true });
    await world.waitFor(started.id, (r) => r.steps.some((s: any) => s.step === 'APPLY' && s.state === 'WAITING'));
    const moved = await pushCommitTo(bare, phaseBranch('2'), { 'docs/review.md': 'Reviewed Phase 2.\n' });
    const run = await world.waitFor(started.id);
    expect(run.status, JSON.stringify(run.failure)).toBe('SUCCEEDED');
    expect(run.phase.id).toBe('3');
    expect(run.steps.find((s: any) => s.step === 'PUBLISH').message).toContain(`rebased: ${phaseBranch('2')} moved`);
    expect(await parentsOf(bare, run.outputs.commitSha)).toEqual([moved]);
    expect(await revParse(bare, phaseBranch('3'))).toBe(run.outputs.commitSha);
    const [pr] = pullRequestOf(world, phaseBranch('3'));
    expect(pr).toMatchObject({ baseRefName: phaseBranch('2'), state: 'OPEN' });
    const d = await detail(world, run.id);
    expect(d.stackedOn.below).toEqual([{ phaseId: '1', pullRequest: { number: phase1.number } }]);
    expect(pr!.body).toContain(`#${d.stackedOn.pullRequest.number} (Phase 2), on #${phase1.number} (Phase 1)`);
  });

  test('a lower stacked branch moved in a way the phase no longer applies to: BASE_MOVED, nothing pushed', async () => {
    world.sandbox.codex.script({ kind: 'implement', pendingPolls: 3 });
    const { run: started } = await world.start({ stack: true });
    await world.waitFor(started.id, (r) => r.steps.some((s: any) => s.step === 'APPLY' && s.state === 'WAITING'));
    // The reviewer rewrites the very task line Phase 4's change marks done.
    const tasks = await fileAt(bare, phaseBranch('3'), TASKS);
    expect(tasks).toContain('- [ ] T008 [P] Document the greet command in README.md');
    await pushCommitTo(bare, phaseBranch('3'), { [TASKS]: tasks.replace('- [ ] T008 [P] Document the greet command in README.md', '- [ ] T008 [P] Document greet in docs/greet.md') });
    const run = await world.waitFor(started.id);
    expect(run.status).toBe('FAILED');
    expect(run.phase.id).toBe('4');
    expect(run.failure).toMatchObject({ code: 'BASE_MOVED', step: 'PUBLISH' });
    expect(run.failure.message).toContain(`${phaseBranch('3')} moved`);
    expect(run.failure.message).toContain(TASKS);
    expect(await branchesOf(bare)).not.toContain(phaseBranch('4'));
  });
});

describe('a feature taken to its end in the sandbox', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(async () => world?.close());

  test('Phase 1 → merge → Phase 2 (stacked, its lower merged meanwhile) → … → NO_WORK', async () => {
    const first = await runToEnd(world);
    expect(first).toMatchObject({ status: 'SUCCEEDED', phase: { id: '1' } });

    // Stacked on Phase 1, which is merged while Codex works: the pull request goes to main instead.
    world.sandbox.codex.script({ kind: 'implement', pendingPolls: 3 });
    const { run: started } = await world.start({ stack: true });
    await world.waitFor(started.id, (r) => r.steps.some((s: any) => s.step === 'APPLY' && s.state === 'WAITING'));
    await mergeOnItsPage(first.outputs.pullRequestUrl);
    const second = await world.waitFor(started.id);
    expect(second.status, JSON.stringify(second.failure)).toBe('SUCCEEDED');
    expect(second.phase.id).toBe('2');
    expect(second.steps.find((s: any) => s.step === 'PUBLISH').message).toContain('is no longer in review');
    expect(pullRequestOf(world, phaseBranch('2'))[0]).toMatchObject({ baseRefName: 'main', state: 'OPEN' });
    expect((await detail(world, second.id)).baseBranch).toBe('main');
    await mergeOnItsPage(second.outputs.pullRequestUrl);

    for (const id of ['3', '4']) {
      const run = await runToEnd(world);
      expect(run, JSON.stringify(run.failure)).toMatchObject({ status: 'SUCCEEDED', phase: { id } });
      expect(pullRequestOf(world, phaseBranch(id))[0]).toMatchObject({ baseRefName: 'main' });
      await mergeOnItsPage(run.outputs.pullRequestUrl);
    }
    const tasks = world.codexTasksCreated();
    const end = await runToEnd(world);
    expect(end.status).toBe('NO_WORK');
    expect(end.statusMessage).toMatch(/no remaining phases/);
    expect(world.codexTasksCreated()).toBe(tasks);
    expect(world.sandbox.github.pullRequests(REPO).map((p) => p.state)).toEqual(['MERGED', 'MERGED', 'MERGED', 'MERGED']);
  });

  test('phaseId: a phase that does not exist fails PHASE_NOT_FOUND; a done one runs again only with confirmRedo', async () => {
    const tasks = world.codexTasksCreated();
    const missing = await runToEnd(world, { phaseId: '9' });
    expect(missing.failure).toMatchObject({ code: 'PHASE_NOT_FOUND', step: 'DISCOVER' });
    expect(missing.failure.message).toContain('has no Phase 9; it has 1, 2, 3, 4');
    const done = await runToEnd(world, { phaseId: '2' });
    expect(done.failure).toMatchObject({ code: 'PHASE_DONE', step: 'DISCOVER' });
    expect(done.failure.message).toContain('confirmRedo: true');
    expect(world.codexTasksCreated()).toBe(tasks);

    const redone = await runToEnd(world, { phaseId: '2', confirmRedo: true });
    expect(redone.status, JSON.stringify(redone.failure)).toBe('SUCCEEDED');
    expect(redone.phase).toMatchObject({ id: '2', openTaskIds: ['T003', 'T004'] });
    expect(createdPrompts(world).at(-1)).toMatch(/be done again/);
    // Its earlier pull request was merged: the redo opens a new one from the same branch.
    const prs = pullRequestOf(world, phaseBranch('2'));
    expect(prs.map((p) => p.state)).toEqual(['MERGED', 'OPEN']);
    expect(redone.outputs.pullRequestNumber).toBe(prs[1]!.number);
  });
});
