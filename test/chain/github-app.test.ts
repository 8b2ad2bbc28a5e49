import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SANDBOX_APP } from '../../src/sandbox/index.js';
import { gql, TOKENS } from '../support/service.js';
import { RUN_FIELDS, startWorld, type World } from '../support/world.js';

let world: World;
let appSetId: string;
let bare: string;
const logLines: string[] = [];

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
const RETRY = `mutation($input: RetryRunInput!) { retryRun(input: $input) { run { ${RUN_FIELDS} } userErrors { code field message } } }`;
const resume = async (runId: string) => {
  const r = await gql(world.svc.url, RETRY, { input: { runId, mode: 'RESUME' } }, TOKENS.operator);
  expect(r.body.data.retryRun.userErrors).toEqual([]);
};
const appFields = (extra: Record<string, unknown> = {}) => ({
  githubTokenRef: null,
  githubAppId: SANDBOX_APP.id,
  githubAppPrivateKeyRef: world.sandbox.appCredentialSet.githubAppPrivateKeyRef,
  commitVia: 'API',
  ...extra,
});
const startOn = async (credentialSetId: string, featureId: string) => {
  const { run, userErrors } = await world.start({ credentialSetId, featureId });
  expect(userErrors).toEqual([]);
  return run.id as string;
};
const currentStep = async (runId: string) =>
  (await world.svc.app.db.query('SELECT current_step FROM spec_workflow_run WHERE id = $1', [runId])).rows[0]?.current_step as string;
/** Runs `fn` before the first installation lookup the run's PUBLISH makes (earlier steps' lookups pass). */
const atPublish = (runId: string, fn: () => Promise<unknown> | unknown) => {
  const arm = () =>
    world.sandbox.github.beforeOperation('getRepoInstallation', async () => {
      if ((await currentStep(runId)) !== 'PUBLISH') return arm();
      await fn();
    });
  arm();
};
/** The branch head as GitHub shows it, with its signature. */
const headOf = async (branch: string) => {
  const token = readFileSync(world.sandbox.credentialSet.githubTokenRef.slice('file:'.length), 'utf8').trim();
  const res = await fetch(`${world.sandbox.github.url}/graphql`, {
    method: 'POST',
    headers: { authorization: `token ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      query: `query($q: String!) { repository(owner: "sandbox", name: "widgets") { ref(qualifiedName: $q) { target { oid ... on Commit { message tree { oid } signature { isValid state wasSignedByGitHub } } } } } }`,
      variables: { q: `refs/heads/${branch}` },
    }),
  });
  return (await res.json()).data.repository.ref?.target ?? null;
};
const publishPayload = async (runId: string) =>
  (await world.svc.app.db.query(`SELECT payload FROM step_attempt WHERE run_id = $1 AND step = 'PUBLISH' AND state = 'SUCCEEDED'`, [runId])).rows[0]?.payload as Record<string, any>;

beforeAll(async () => {
  world = await startWorld({ logLines, env: { LOG_LEVEL: 'info' } });
  bare = world.demoRepository;
  appSetId = await world.addCredentialSet('app', appFields());
});
afterAll(async () => world?.close());

describe('a GitHub App credential set with commitVia API', () => {
  test('token expiring between apply and publish is refreshed; GitHub makes the commit, Verified, with the tree the git path makes', async () => {
    const runId = await startOn(appSetId, '001-greeting');
    const apps = world.sandbox.github.apps;
    let revoked = -1;
    let mintedAtPublish = -1;
    atPublish(runId, async () => {
      // The hour is nearly up: GitHub no longer takes the token, and the expiry it gave says so.
      revoked = apps.expireTokens();
      await world.svc.app.db.query(`UPDATE github_app_token SET expires_at = now() + interval '1 minute'`);
      mintedAtPublish = apps.minted.length;
    });
    const run = await world.waitFor(runId);
    expect(run.status, JSON.stringify(run.failure)).toBe('SUCCEEDED');
    expect(revoked).toBeGreaterThan(0);
    expect(apps.minted.length).toBeGreaterThan(mintedAtPublish);
    expect(world.sandbox.github.requests().filter((r) => r.status === 401)).toEqual([]);

    const head = await headOf(run.outputs.branch);
    expect(head.oid).toBe(run.outputs.commitSha);
    expect(head.signature).toEqual({ isValid: true, state: 'VALID', wasSignedByGitHub: true });
    expect(head.message).toContain(`spec-chain-run: ${runId}`);
    // The git path pushes the commit the patch made in the worker's cache: the same tree, on the same base.
    const payload = await publishPayload(runId);
    expect(payload.commitVia).toBe('API');
    expect(payload.verified).toBe(true);
    const cache = join(world.dir, 'git-cache', 'sandbox', 'widgets.git');
    expect(git(cache, 'rev-parse', `${payload.localCommitSha}^{tree}`)).toBe(head.tree.oid);
    expect(git(bare, 'rev-parse', `${head.oid}^`)).toBe(git(cache, 'rev-parse', `${payload.localCommitSha}^`));
    expect(git(bare, 'log', '-1', '--format=%cn <%ce>', head.oid)).toBe('GitHub <noreply@github.com>');
  });

  test('a token revoked mid-run stops it naming the key; RESUME after a failure inside publish makes exactly one commit', async () => {
    const ref = world.sandbox.appCredentialSet.githubAppPrivateKeyRef;
    const runId = await startOn(appSetId, '002-pricing');
    atPublish(runId, () => world.sandbox.github.apps.expireTokens());
    const failed = await world.waitFor(runId);
    expect(failed.status).toBe('FAILED');
    expect(failed.failure.code).toBe('CREDENTIALS_INVALID');
    expect(failed.failure.message).toContain(ref);
    expect(failed.failure.message).toContain('revoked');
    const branch = failed.outputs.branch as string;
    expect(git(bare, 'branch', '--list', branch)).toBe('');

    // The next try fails after GitHub made the commit, before the pull request.
    world.sandbox.github.inject({ kind: 'FORBIDDEN', operation: 'CreatePullRequest' });
    await resume(runId);
    const again = await world.waitFor(runId, (r) => r.status === 'FAILED' && r.failure?.code === 'PERMISSION_DENIED');
    expect(again.failure.step).toBe('PUBLISH');
    expect(Number(git(bare, 'rev-list', '--count', `main..${branch}`))).toBe(1);

    await resume(runId);
    const done = await world.waitFor(runId, (r) => ['SUCCEEDED', 'IN_REVIEW'].includes(r.status) || (r.status === 'FAILED' && r.version > again.version));
    expect(done.status, JSON.stringify(done.failure)).toBe('SUCCEEDED');
    expect(Number(git(bare, 'rev-list', '--count', `main..${branch}`))).toBe(1);
    const made = world.sandbox.github
      .requests()
      .filter((r) => r.operationName === 'CreateCommitOnBranch' && r.variables?.branchName === branch && r.status === 200 && r.errorTypes.length === 0);
    expect(made).toHaveLength(1);
    expect((await headOf(branch)).oid).toBe(done.outputs.commitSha);
  });

  test('a mode change gives API_COMMIT_UNSUPPORTED naming the path; with fallback to git allowed, a RESUME pushes it', async () => {
    world.sandbox.codex.script({
      kind: 'diff',
      diff: [
        'diff --git a/README.md b/README.md',
        'old mode 100644',
        'new mode 100755',
        'diff --git a/specs/003-search/notes.md b/specs/003-search/notes.md',
        'new file mode 100644',
        '--- /dev/null',
        '+++ b/specs/003-search/notes.md',
        '@@ -0,0 +1 @@',
        '+search notes',
        '',
      ].join('\n'),
    });
    const runId = await startOn(appSetId, '003-search');
    const failed = await world.waitFor(runId);
    expect(failed.status).toBe('FAILED');
    expect(failed.failure.code).toBe('API_COMMIT_UNSUPPORTED');
    expect(failed.failure.step).toBe('PUBLISH');
    expect(failed.failure.message).toContain('README.md (mode change 100644 → 100755)');
    expect(failed.failure.remediation).toContain('commitFallbackToGit');
    expect(git(bare, 'branch', '--list', failed.outputs.branch)).toBe('');

    const update = await gql(
      world.svc.url,
      'mutation($input: UpdateCredentialSetInput!) { updateCredentialSet(input: $input) { credentialSet { commitVia commitFallbackToGit } userErrors { code } } }',
      { input: { id: appSetId, commitFallbackToGit: true } },
    );
    expect(update.body.data.updateCredentialSet).toEqual({ credentialSet: { commitVia: 'API', commitFallbackToGit: true }, userErrors: [] });
    await resume(runId);
    const done = await world.waitFor(runId, (r) => r.status !== 'FAILED' && ['SUCCEEDED', 'IN_REVIEW'].includes(r.status));
    expect(done.status).toBe('SUCCEEDED');
    expect(git(bare, 'ls-tree', done.outputs.commitSha, 'README.md').split(' ')[0]).toBe('100755');
    // Pushed with git: GitHub did not make it, so it is not signed.
    expect((await headOf(done.outputs.branch)).signature).toBeNull();
    await gql(world.svc.url, 'mutation($input: UpdateCredentialSetInput!) { updateCredentialSet(input: $input) { userErrors { code } } }', {
      input: { id: appSetId, commitFallbackToGit: false },
    });
  });
});

describe('credential failures name the key reference', () => {
  test('a key that is not the App’s: the run stops with CREDENTIALS_INVALID, and validation says so', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const keyFile = join(world.dir, 'wrong-app-key.pem');
    writeFileSync(keyFile, privateKey);
    const id = await world.addCredentialSet('wrong-key', appFields({ githubAppPrivateKeyRef: `file:${keyFile}` }));
    const run = await world.waitFor(await startOn(id, '001-greeting'));
    expect(run.status).toBe('FAILED');
    expect(run.failure.code).toBe('CREDENTIALS_INVALID');
    expect(run.failure.message).toContain(`file:${keyFile}`);
    expect(run.failure.message).toContain('is not this App');
    const validated = await gql(
      world.svc.url,
      'mutation($id: ID!) { validateCredentialSet(id: $id) { credentialSet { validationIssues { ref code message } } } }',
      { id },
    );
    expect(validated.body.data.validateCredentialSet.credentialSet.validationIssues).toContainEqual(
      expect.objectContaining({ ref: `file:${keyFile}`, code: 'CREDENTIALS_INVALID' }),
    );
  });

  test('an installation the App does not have: GITHUB_APP_NOT_INSTALLED, with what to do', async () => {
    const id = await world.addCredentialSet('not-installed', appFields({ githubAppInstallationId: '999' }));
    const run = await world.waitFor(await startOn(id, '001-greeting'));
    expect(run.status).toBe('FAILED');
    expect(run.failure.code).toBe('GITHUB_APP_NOT_INSTALLED');
    expect(run.failure.message).toContain('installation 999');
    expect(run.failure.message).toContain(world.sandbox.appCredentialSet.githubAppPrivateKeyRef);
    expect(run.failure.remediation).toContain('Install the GitHub App whose private key is');
  });
});

test('no installation token appears in any log line, event, artifact or table', async () => {
  const tokens = world.sandbox.github.apps.issued;
  expect(tokens.length).toBeGreaterThan(2);
  const db = world.svc.app.db;
  const tables = (await db.query(`SELECT tablename FROM pg_tables WHERE schemaname IN ('public', 'pgboss')`)).rows.map((r) => r.tablename as string);
  const texts: string[] = [logLines.join('\n')];
  expect(texts[0]!.length).toBeGreaterThan(0);
  for (const table of tables) {
    const schema = (await db.query('SELECT schemaname FROM pg_tables WHERE tablename = $1', [table])).rows[0].schemaname;
    texts.push(JSON.stringify((await db.query(`SELECT row_to_json(t)::text AS row FROM "${schema}"."${table}" t`)).rows));
  }
  const runs = (await db.query('SELECT id FROM spec_workflow_run')).rows.map((r) => r.id as string);
  for (const id of runs) texts.push(JSON.stringify(await world.events(id)));
  // Every stored artifact's contents (kept as bytes in PostgreSQL), downloaded as a client would.
  for (const id of runs) {
    for (const a of (await world.run(id)).artifacts.filter((x: any) => x.url.startsWith('/artifacts/'))) {
      const response = await fetch(`${world.svc.url}${a.url}`, { headers: { authorization: `Bearer ${TOKENS.viewer}` } });
      expect(response.status).toBe(200);
      texts.push(Buffer.from(await response.arrayBuffer()).toString('latin1'));
    }
  }
  const all = texts.join('\n');
  for (const token of tokens) expect(all.includes(token), `token ${tokens.indexOf(token)} leaked`).toBe(false);
  // What was searched holds the runs and the sealed token rows, so a token written anywhere there would be found.
  expect(runs.length).toBeGreaterThan(3);
  expect(all).toContain(runs[0]);
  expect(Number((await db.query('SELECT count(*) FROM github_app_token')).rows[0].count)).toBeGreaterThan(0);
});
