import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { collect, wsClient } from '../support/subscriber.js';
import { gql, TOKENS } from '../support/service.js';
import { startWorld, type World } from '../support/world.js';

// Issue 10, finding 3: a secret whose value holds CR/LF, quotes or non-ASCII, in any credential reference
// (Codex as an env: access token, Codex as a file: auth.json, GitHub as an env: token), never comes back:
// not in an answer, validationIssues, an event, a runUpdated message, anything stored, or a log line.

/** Each secret carries markers on both of its lines, so any piece of it that leaks is found. */
const SECRETS = {
  EDGE_CODEX_TOKEN: `at-Sëcret"codexenv'MARK1A-0123456789\r\nX-Injected: codexenv-MARK1B-9876543210`,
  EDGE_GITHUB_TOKEN: `ghp_Sëcret"githubenv'MARK3A-0123456789\r\nX-Injected: githubenv-MARK3B-9876543210`,
};
const AUTH_TOKEN = `eyJhbGciOi.Sëcret"codexfile'MARK2A-0123456789\r\nX-Injected: codexfile-MARK2B-9876543210`;
const MARKERS = ['MARK1A', 'MARK1B', 'MARK2A', 'MARK2B', 'MARK3A', 'MARK3B'];

const logLines: string[] = [];
let world: World;
let authFile: string;

beforeAll(async () => {
  Object.assign(process.env, SECRETS);
  world = await startWorld({ env: { LOG_LEVEL: 'debug' }, logLines });
  authFile = join(world.dir, 'hostile-auth.json');
  await writeFile(authFile, JSON.stringify({ tokens: { access_token: AUTH_TOKEN, account_id: 'acct-edge' } }), { mode: 0o600 });
});
afterAll(async () => {
  await world?.close();
  for (const name of Object.keys(SECRETS)) delete process.env[name];
});

/** Every marker found in `text`, whichever way the secret was quoted (raw, JSON-escaped, cut at a line). */
const leaked = (text: string) => MARKERS.filter((m) => text.includes(m));

/** Everything the database holds, as text: runs, attempts, events, artifacts and their contents, credential sets, queue jobs. */
async function everythingStored(): Promise<string> {
  const tables: { schema: string; name: string }[] = await world.svc.app.ds.query(
    `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
  );
  let all = '';
  for (const t of tables) {
    const rows: { row: string }[] = await world.svc.app.ds.query(`SELECT t::text AS row FROM "${t.schema}"."${t.name}" t`);
    all += rows.map((r) => r.row).join('\n');
  }
  return all;
}

const RUN_DETAIL = `query($id: ID!) { run(id: $id) {
  id status statusMessage failure { code message remediation }
  steps { step state message payload errorCode } stepAttempts { step attempt state message payload }
  events { version step from to payload } artifacts { kind url }
} }`;

test.each([
  ['Codex, env: access token', { codexAuthRef: 'env:EDGE_CODEX_TOKEN' }],
  ['Codex, file: auth.json', () => ({ codexAuthRef: `file:${authFile}` })],
  ['GitHub, env: token', { githubTokenRef: 'env:EDGE_GITHUB_TOKEN' }],
] as [string, Record<string, string> | (() => Record<string, string>)][])('%s: the value appears nowhere', async (name, refs) => {
  const fields = typeof refs === 'function' ? refs() : refs;
  const answers: string[] = [];
  const setId = await world.addCredentialSet(name.replace(/[^a-z]+/gi, '-').toLowerCase(), fields);

  const validated = await gql(
    world.svc.url,
    `mutation($id: ID!) { validateCredentialSet(id: $id) { credentialSet { validationIssues { ref code message } } userErrors { code message } } }`,
    { id: setId },
    TOKENS.admin,
  );
  answers.push(JSON.stringify(validated.body));
  const issues = validated.body.data.validateCredentialSet.credentialSet.validationIssues;
  // The check did find the broken secret, and says which reference to fix.
  expect(issues.map((i: { ref: string }) => i.ref)).toContain(Object.values(fields)[0]);
  const listed = await gql(world.svc.url, '{ credentialSets { id validationIssues { ref code message } } }', {}, TOKENS.viewer);
  answers.push(JSON.stringify(listed.body));

  const { run } = await world.start({ credentialSetId: setId });
  const client = wsClient(world.svc.url);
  const updates = await collect(client, run.id, 0).done;
  await client.dispose();
  answers.push(JSON.stringify(updates));
  const final = await world.waitFor(run.id);
  expect(final.status).toBe('FAILED');
  const detail = await gql(world.svc.url, RUN_DETAIL, { id: run.id }, TOKENS.viewer);
  answers.push(JSON.stringify(detail.body));
  expect(detail.body.data.run.failure.code).toMatch(/^CREDENTIALS_/);

  for (const a of detail.body.data.run.artifacts.filter((x: { url: string }) => x.url.includes('/artifacts/'))) {
    const res = await fetch(new URL(a.url, world.svc.url), { headers: { authorization: `Bearer ${TOKENS.viewer}` } });
    answers.push(await res.text());
  }

  expect(leaked(answers.join('\n'))).toEqual([]);
  expect(leaked(await everythingStored())).toEqual([]);
  expect(leaked(logLines.join(''))).toEqual([]);
  // The log did record the failure, so the check above looked at lines that were written.
  expect(logLines.some((l) => l.includes(run.id))).toBe(true);
}, 120_000);
