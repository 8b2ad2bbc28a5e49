import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SANDBOX_FEATURE, SANDBOX_REPOSITORY } from '../../src/sandbox/index.js';
import { gql, TOKENS } from '../support/service.js';
import { startWorld, type World } from '../support/world.js';

// Issue 10, finding 6: every input is checked at the edge, before anything is stored; each refusal is a
// userErrors entry naming its field.

let world: World;
beforeAll(async () => {
  world = await startWorld({ workers: false });
});
afterAll(async () => {
  await world?.close();
});

const START = `mutation($input: StartSpecPhaseInput!) { startSpecPhase(input: $input) { run { id } userErrors { code field message } } }`;

/** Rows of every table an input could reach. */
async function stored(): Promise<Record<string, number>> {
  const [row] = await world.svc.app.ds.query(`SELECT
    (SELECT count(*) FROM spec_workflow_run)::int AS runs,
    (SELECT count(*) FROM run_event)::int AS events,
    (SELECT count(*) FROM step_attempt)::int AS attempts,
    (SELECT count(*) FROM credential_set)::int AS "credentialSets"`);
  return row;
}

describe('startSpecPhase', () => {
  const cases: [string, Record<string, unknown>, string, string][] = [
    ['a base branch read as a git option', { baseBranch: '--upload-pack=touch /tmp/pwned' }, 'baseBranch', 'INVALID_BRANCH'],
    ['a base branch of one dash option', { baseBranch: '-x' }, 'baseBranch', 'INVALID_BRANCH'],
    ['a base branch with ..', { baseBranch: 'a..b' }, 'baseBranch', 'INVALID_BRANCH'],
    ['a base branch ending .lock', { baseBranch: 'main.lock' }, 'baseBranch', 'INVALID_BRANCH'],
    ['a base branch over 255 characters', { baseBranch: 'b'.repeat(256) }, 'baseBranch', 'INVALID_BRANCH'],
    ['the repository owner/..', { repository: 'owner/..' }, 'repository', 'INVALID_REPOSITORY'],
    ['the repository owner/.', { repository: 'owner/.' }, 'repository', 'INVALID_REPOSITORY'],
    ['a Codex environment of 1 MB', { codexEnvironment: 'e'.repeat(1_000_000) }, 'codexEnvironment', 'TOO_LONG'],
    ['notes over 20,000 characters', { notes: 'n'.repeat(20_001) }, 'notes', 'INVALID_NOTES'],
    ['an idempotency key over 200 characters', { idempotencyKey: 'k'.repeat(201) }, 'idempotencyKey', 'INVALID_IDEMPOTENCY_KEY'],
    ['a credential set id of 36 dashes', { credentialSetId: '-'.repeat(36) }, 'credentialSetId', 'UNKNOWN_CREDENTIAL_SET'],
  ];

  test.each(cases)('%s: a userError on its field, nothing stored', async (_name, input, field, code) => {
    const before = await stored();
    const r = await gql(
      world.svc.url,
      START,
      { input: { repository: SANDBOX_REPOSITORY, featureId: SANDBOX_FEATURE, credentialSetId: world.credentialSetId, ...input } },
      TOKENS.operator,
    );
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.startSpecPhase.run).toBeNull();
    expect(r.body.data.startSpecPhase.userErrors).toContainEqual(expect.objectContaining({ field, code }));
    // The message never echoes a megabyte back.
    expect(JSON.stringify(r.body).length).toBeLessThan(2_000);
    expect(await stored()).toEqual(before);
  });

  test('a dotted repository name and a slashed branch that git accepts are still accepted', async () => {
    const r = await gql(
      world.svc.url,
      START,
      { input: { repository: SANDBOX_REPOSITORY, featureId: SANDBOX_FEATURE, credentialSetId: world.credentialSetId, baseBranch: 'release/v1.2' } },
      TOKENS.operator,
    );
    expect(r.body.data.startSpecPhase.userErrors).toEqual([]);
    expect(r.body.data.startSpecPhase.run.id).toBeTruthy();
    const cancelled = await gql(world.svc.url, `mutation($id: ID!) { cancelRun(input: { runId: $id }) { userErrors { code } } }`, { id: r.body.data.startSpecPhase.run.id }, TOKENS.operator);
    expect(cancelled.body.data.cancelRun.userErrors).toEqual([]);
  });
});

describe('cancelRun and retryRun', () => {
  test('a cancel reason over 1,000 characters is refused and the run stays as it was', async () => {
    const { run } = await world.start();
    const before = await stored();
    const r = await gql(
      world.svc.url,
      `mutation($id: ID!, $reason: String) { cancelRun(input: { runId: $id, reason: $reason }) { run { id } userErrors { code field } } }`,
      { id: run.id, reason: 'r'.repeat(1_001) },
      TOKENS.operator,
    );
    expect(r.body.data.cancelRun).toEqual({ run: null, userErrors: [{ code: 'TOO_LONG', field: 'reason' }] });
    expect(await stored()).toEqual(before);
    expect((await world.run(run.id)).status).toBe('QUEUED');
    await gql(world.svc.url, `mutation($id: ID!) { cancelRun(input: { runId: $id }) { userErrors { code } } }`, { id: run.id }, TOKENS.operator);
  });

  test('run ids of 36 dashes are NOT_FOUND userErrors, not database errors', async () => {
    const dashes = '-'.repeat(36);
    const cancel = await gql(world.svc.url, `mutation($id: ID!) { cancelRun(input: { runId: $id }) { userErrors { code field } } }`, { id: dashes }, TOKENS.operator);
    expect(cancel.body.errors).toBeUndefined();
    expect(cancel.body.data.cancelRun.userErrors).toEqual([{ code: 'NOT_FOUND', field: 'runId' }]);
    const retry = await gql(world.svc.url, `mutation($id: ID!) { retryRun(input: { runId: $id, mode: RESUME }) { userErrors { code field } } }`, { id: dashes }, TOKENS.operator);
    expect(retry.body.errors).toBeUndefined();
    expect(retry.body.data.retryRun.userErrors).toEqual([{ code: 'NOT_FOUND', field: 'runId' }]);
  });
});

describe('credential sets', () => {
  const CREATE = `mutation($input: CreateCredentialSetInput!) { createCredentialSet(input: $input) { credentialSet { id } userErrors { code field } } }`;
  const base = { name: 'edge', codexAuthRef: 'env:EDGE_CODEX', githubTokenRef: 'env:EDGE_GITHUB' };

  test.each([
    ['a repository owner/..', { repositories: ['owner/..'] }, 'repositories', 'INVALID_REPOSITORY'],
    ['a Codex environment of 1 MB', { codexEnvironment: 'e'.repeat(1_000_000) }, 'codexEnvironment', 'TOO_LONG'],
    ['a secret reference of 100 KB', { codexAuthRef: `file:/${'p'.repeat(100_000)}` }, 'codexAuthRef', 'TOO_LONG'],
    ['1,000 repositories', { repositories: Array.from({ length: 1000 }, (_, i) => `o/r${i}`) }, 'repositories', 'TOO_LONG'],
  ] as [string, Record<string, unknown>, string, string][])('%s: a userError on its field, nothing stored', async (_name, input, field, code) => {
    const before = await stored();
    const r = await gql(world.svc.url, CREATE, { input: { ...base, ...input } }, TOKENS.admin);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.createCredentialSet.credentialSet).toBeNull();
    expect(r.body.data.createCredentialSet.userErrors).toContainEqual({ code, field });
    expect(await stored()).toEqual(before);
  });
});
