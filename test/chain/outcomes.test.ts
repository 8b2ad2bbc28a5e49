import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { branchesOf, fileAt, pushBranchWith } from '../support/repo.js';
import { gql, TOKENS } from '../support/service.js';
import { expectGapless, RUN_FIELDS, startWorld, type World } from '../support/world.js';

let world: World;
let bare: string;
beforeAll(async () => {
  world = await startWorld();
  bare = world.demoRepository;
});
afterAll(async () => world?.close());

const RETRY = `mutation($input: RetryRunInput!) { retryRun(input: $input) { run { ${RUN_FIELDS} } userErrors { code field message } } }`;
const retry = (input: Record<string, unknown>) => gql(world.svc.url, RETRY, { input }, TOKENS.operator).then((r) => r.body.data.retryRun);
const runCount = async () => (await gql(world.svc.url, '{ runs { totalCount } }', {}, TOKENS.viewer)).body.data.runs.totalCount as number;

describe('input errors come back as userErrors and create nothing', () => {
  test.each([
    [{ repository: 'not a repo' }, 'INVALID_REPOSITORY', 'repository'],
    [{ featureId: '../etc' }, 'INVALID_FEATURE_ID', 'featureId'],
    [{ featureId: 'greeting' }, 'INVALID_FEATURE_ID', 'featureId'],
    [{ credentialSetId: '00000000-0000-0000-0000-000000000000' }, 'UNKNOWN_CREDENTIAL_SET', 'credentialSetId'],
    [{ bestOfN: 7 }, 'INVALID_BEST_OF_N', 'bestOfN'],
    [{ baseBranch: 'a..b' }, 'INVALID_BRANCH', 'baseBranch'],
  ])('%j → %s', async (input, code, field) => {
    const before = await runCount();
    const { run, userErrors } = await world.start(input);
    expect(run).toBeNull();
    expect(userErrors).toContainEqual(expect.objectContaining({ code, field }));
    expect(await runCount()).toBe(before);
  });

  test('a viewer cannot start a run', async () => {
    const r = await gql(
      world.svc.url,
      'mutation($i: StartSpecPhaseInput!) { startSpecPhase(input: $i) { run { id } } }',
      { i: { repository: 'sandbox/widgets', credentialSetId: world.credentialSetId } },
      TOKENS.viewer,
    );
    expect(r.body.errors[0].extensions.code).toBe('FORBIDDEN');
  });
});

test('no diff: the run fails NO_DIFF with the agent\'s own words and does not loop', async () => {
  world.sandbox.codex.script({ kind: 'no-diff', message: 'Which greeting language should I use?' });
  const { run: started } = await world.start();
  const run = await world.waitFor(started.id);
  expect(run.status).toBe('FAILED');
  expect(run.failure).toMatchObject({ code: 'NO_DIFF', step: 'APPLY', retryModes: ['RESUME', 'RESTART'], notesRequired: true });
  expect(run.failure.message).toContain('Which greeting language should I use?');
  expect(run.steps.find((s: any) => s.step === 'APPLY').tries).toBe(1);
});

test('Codex error: the run fails with Codex\'s code and message', async () => {
  world.sandbox.codex.script({ kind: 'error', code: 'environment_setup_failed', message: 'setup script exited 1' });
  const { run: started } = await world.start();
  const run = await world.waitFor(started.id);
  expect(run.failure).toMatchObject({ code: 'CODEX_TASK_FAILED', step: 'APPLY' });
  expect(run.failure.message).toContain('environment_setup_failed');
  expect(run.failure.message).toContain('setup script exited 1');
});

test('merge conflict: fails MERGE_CONFLICT with the patch and conflict report kept for manual resolution', async () => {
  world.sandbox.codex.script({ kind: 'conflict' });
  const { run: started } = await world.start();
  const run = await world.waitFor(started.id);
  expect(run.failure).toMatchObject({ code: 'MERGE_CONFLICT', step: 'APPLY' });
  const kinds = run.artifacts.map((a: any) => a.kind);
  expect(kinds).toEqual(expect.arrayContaining(['PATCH', 'CONFLICT_REPORT', 'APPLY_OUTPUT']));
  const report = run.artifacts.find((a: any) => a.kind === 'CONFLICT_REPORT');
  const res = await fetch(`${world.svc.url}${report.url}`, { headers: { authorization: `Bearer ${TOKENS.viewer}` } });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { conflictedPaths: string[]; conflicts: { content: string }[] };
  expect(body.conflictedPaths).toContain('README.md');
  expect(body.conflicts[0]!.content).toContain('<<<<<<<');
  expect((await fetch(`${world.svc.url}${report.url}`)).status).toBe(401);
});

test('PR creation fails, then RESUME completes with the stored diff and exactly one Codex task', async () => {
  world.sandbox.github.inject({ kind: 'FORBIDDEN', operation: 'CreatePullRequest', times: 1 });
  const tasksBefore = world.codexTasksCreated();
  const { run: started } = await world.start();
  const failed = await world.waitFor(started.id);
  expect(failed.failure).toMatchObject({ code: 'PERMISSION_DENIED', step: 'PUBLISH' });
  expect(failed.failure.retryModes).toContain('RESUME');

  const { run: resumed, userErrors } = await retry({ runId: started.id, mode: 'RESUME' });
  expect(userErrors).toEqual([]);
  expect(resumed.id).toBe(started.id);
  const done = await world.waitFor(started.id);
  expect(done.status).toBe('SUCCEEDED');
  expect(done.outputs.pullRequestUrl).toMatch(/\/pull\/\d+$/);
  expect(world.codexTasksCreated() - tasksBefore).toBe(1);
  // The resumed step is a second attempt; the steps before it ran once.
  const publish = done.steps.find((s: any) => s.step === 'PUBLISH');
  expect(publish.attempt).toBe(2);
  expect(done.steps.find((s: any) => s.step === 'SUBMIT').attempt).toBe(1);
  expectGapless(await world.events(started.id));
});

test('a phase in review is not redone: the next start ends IN_REVIEW naming the pull request, with no Codex task and nothing pushed', async () => {
  const prsBefore = world.sandbox.github.pullRequests('sandbox/widgets');
  const branchesBefore = await branchesOf(bare);
  const tasksBefore = world.codexTasksCreated();
  const { run: started } = await world.start();
  const run = await world.waitFor(started.id);
  expect(run.status).toBe('IN_REVIEW');
  const pr = prsBefore.find((p) => p.headRefName === 'spec-chain/001-greeting/phase-1')!;
  expect(run.statusMessage).toContain(`#${pr.number}`);
  expect(run.outputs).toMatchObject({ branch: pr.headRefName, pullRequestNumber: pr.number, pullRequestUrl: pr.url });
  expect(run.steps.map((s: any) => s.state)).toEqual(['SUCCEEDED', 'SKIPPED', 'SKIPPED', 'SKIPPED', 'SKIPPED']);
  expect(world.codexTasksCreated()).toBe(tasksBefore);
  expect(world.sandbox.github.pullRequests('sandbox/widgets')).toEqual(prsBefore);
  expect(await branchesOf(bare)).toEqual(branchesBefore);
});

test('no remaining phases: NO_WORK after discovery, later steps SKIPPED, nothing submitted', async () => {
  const tasks = await fileAt(bare, 'main', 'specs/001-greeting/tasks.md');
  await pushBranchWith(bare, 'all-done', { 'specs/001-greeting/tasks.md': tasks.replace(/- \[ \]/g, '- [X]') });
  const tasksBefore = world.codexTasksCreated();
  const { run: started } = await world.start({ baseBranch: 'all-done' });
  const run = await world.waitFor(started.id);
  expect(run.status).toBe('NO_WORK');
  expect(run.statusMessage).toMatch(/no remaining phases/);
  expect(run.steps.map((s: any) => s.state)).toEqual(['SUCCEEDED', 'SKIPPED', 'SKIPPED', 'SKIPPED', 'SKIPPED']);
  expect(world.codexTasksCreated()).toBe(tasksBefore);
});

test('malformed tasks.md: fails at discovery with the file and line', async () => {
  await pushBranchWith(bare, 'broken', { 'specs/001-greeting/tasks.md': '# Tasks\n\nSome notes.\n\n- [ ] T001 a task with no phase\n' });
  const { run: started } = await world.start({ baseBranch: 'broken' });
  const run = await world.waitFor(started.id);
  expect(run.failure).toMatchObject({ code: 'SPEC_INVALID', step: 'DISCOVER', retryModes: ['RESTART'] });
  expect(run.failure.message).toMatch(/specs\/001-greeting\/tasks\.md(:\d+)?: /);
});

test('an active run of the same feature blocks a second start (RUN_ACTIVE); the same idempotency key returns the same run; cancel ends it', async () => {
  world.sandbox.codex.script({ kind: 'implement', pendingPolls: 50 });
  // Phase 1 is in review by now: asked for by id, it is revised.
  const first = await world.start({ idempotencyKey: 'moonmind-42', phaseId: '1' });
  const again = await world.start({ idempotencyKey: 'moonmind-42', phaseId: '1' });
  expect(again.run.id).toBe(first.run.id);
  const second = await world.start();
  expect(second.run).toBeNull();
  expect(second.userErrors[0]).toMatchObject({ code: 'RUN_ACTIVE' });
  expect(second.userErrors[0].message).toContain(first.run.id);

  await world.waitFor(first.run.id, (r) => r.steps.some((s: any) => s.step === 'APPLY' && s.state === 'WAITING'));
  const cancel = await gql(
    world.svc.url,
    `mutation($input: CancelRunInput!) { cancelRun(input: $input) { run { ${RUN_FIELDS} } userErrors { code message } } }`,
    { input: { runId: first.run.id, reason: 'operator changed their mind' } },
    TOKENS.operator,
  );
  expect(cancel.body.data.cancelRun.userErrors).toEqual([]);
  const cancelled = await world.waitFor(first.run.id, (r) => r.status === 'CANCELLED');
  expect(cancelled.steps.find((s: any) => s.step === 'APPLY').state).toBe('CANCELLED');
  // The waiting poll never runs again.
  const polls = world.sandbox.codex.requests().filter((q) => q.method === 'GET' && q.path.includes(cancelled.outputs.codexTaskId)).length;
  await new Promise((r) => setTimeout(r, 2500));
  expect(world.sandbox.codex.requests().filter((q) => q.method === 'GET' && q.path.includes(cancelled.outputs.codexTaskId)).length).toBe(polls);
  world.sandbox.codex.reset();
});

test('RESTART needs consent, then starts a new run linked by retryOf', async () => {
  world.sandbox.codex.script({ kind: 'no-diff', message: 'nothing to do?' });
  // Phase 1 is in review by now: asked for by id with notes, its pull request is revised.
  const { run: started } = await world.start({ phaseId: '1', notes: 'Say hello in French too.' });
  expect((await world.waitFor(started.id)).failure.code).toBe('NO_DIFF');
  const refused = await retry({ runId: started.id, mode: 'RESTART' });
  expect(refused.userErrors[0]).toMatchObject({ code: 'CONFIRMATION_REQUIRED', field: 'confirmRestart' });
  const resumeRefused = await retry({ runId: started.id, mode: 'RESUME' });
  expect(resumeRefused.userErrors[0]).toMatchObject({ code: 'NOTES_REQUIRED', field: 'notes' });
  const restarted = await retry({ runId: started.id, mode: 'RESTART', confirmRestart: true });
  expect(restarted.userErrors).toEqual([]);
  expect(restarted.run.retryOf).toBe(started.id);
  const done = await world.waitFor(restarted.run.id);
  expect(done.status, JSON.stringify(done.failure)).toBe('SUCCEEDED');
});

test('credentials expire between submit and publish: stopped before the push, no branch left, the secret named', async () => {
  world.sandbox.codex.script({ kind: 'implement', pendingPolls: 2 });
  const tokenFile = world.sandbox.credentialSet.githubTokenRef.slice('file:'.length);
  const branchesBefore = await branchesOf(bare);
  // A phase nobody published yet: mark the first open phase done on a new base branch.
  const tasks = await fileAt(bare, 'main', 'specs/001-greeting/tasks.md');
  await pushBranchWith(bare, 'later-phase', { 'specs/001-greeting/tasks.md': tasks.replace(/- \[ \] (T00[1-3])/g, '- [X] $1') });
  const { run: started } = await world.start({ baseBranch: 'later-phase' });
  await world.waitFor(started.id, (r) => r.steps.some((s: any) => s.step === 'APPLY' && s.state === 'WAITING'));
  const original = await readFile(tokenFile, 'utf8');
  await writeFile(tokenFile, 'ghs_revoked_token_000000000000\n');
  try {
    const run = await world.waitFor(started.id);
    expect(run.status).toBe('FAILED');
    expect(run.failure.step).toBe('PUBLISH');
    expect(run.failure.code).toMatch(/^CREDENTIALS_/);
    expect(run.failure.remediation).toContain(world.sandbox.credentialSet.githubTokenRef);
    expect(await branchesOf(bare)).toEqual(branchesBefore.concat('later-phase').sort());

    // Retrying without fixing the secret halts at once with the same guidance.
    const halted = await retry({ runId: started.id, mode: 'RESUME' });
    expect(halted.userErrors[0].code).toMatch(/^CREDENTIALS_/);
    expect(halted.userErrors[0].message).toContain(world.sandbox.credentialSet.githubTokenRef);
    expect(halted.run.status).toBe('FAILED');
    const events = await world.events(started.id);
    expect(events.at(-1).payload).toMatchObject({ retry: 'RESUME', refused: true });

    // Fixed: RESUME publishes.
    await writeFile(tokenFile, original);
    const resumed = await retry({ runId: started.id, mode: 'RESUME' });
    expect(resumed.userErrors).toEqual([]);
    expect((await world.waitFor(started.id)).status).toBe('SUCCEEDED');
  } finally {
    await writeFile(tokenFile, original);
  }
});

test('missing credentials: stopped before any outside call; a retry without fixing halts at once with the same guidance', async () => {
  const created = await gql(
    world.svc.url,
    `mutation($i: CreateCredentialSetInput!) { createCredentialSet(input: $i) { credentialSet { id } } }`,
    { i: { ...world.sandbox.credentialSet, name: 'no-github-token', githubTokenRef: 'env:SPEC_CHAIN_TEST_UNSET_TOKEN' } },
    TOKENS.admin,
  );
  const credentialSetId = created.body.data.createCredentialSet.credentialSet.id;
  const tasksBefore = world.codexTasksCreated();
  const gitRequestsBefore = world.sandbox.github.requests().length;
  const { run: started } = await world.start({ credentialSetId });
  const run = await world.waitFor(started.id);
  expect(run.failure).toMatchObject({ code: 'CREDENTIALS_MISSING', step: 'DISCOVER' });
  expect(run.failure.message).toContain('env:SPEC_CHAIN_TEST_UNSET_TOKEN');
  expect(run.failure.remediation).toContain('env:SPEC_CHAIN_TEST_UNSET_TOKEN');
  expect(world.codexTasksCreated()).toBe(tasksBefore);
  expect(world.sandbox.github.requests().length).toBe(gitRequestsBefore);

  const halted = await retry({ runId: started.id, mode: 'RESUME' });
  expect(halted.userErrors[0]).toMatchObject({ code: 'CREDENTIALS_MISSING', field: 'credentials' });
  expect(halted.userErrors[0].message).toContain('env:SPEC_CHAIN_TEST_UNSET_TOKEN');
  expect(halted.run.status).toBe('FAILED');
});
