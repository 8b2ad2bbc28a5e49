import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { gql, TOKENS } from '../support/service.js';
import { startWorld, type World } from '../support/world.js';

let world: World;
beforeAll(async () => {
  world = await startWorld({ workers: false });
});
afterAll(async () => world?.close());

const FIELDS = 'id name codexAuthRef githubTokenRef codexEnvironment repositories validatedAt validationIssues { ref code message }';
const admin = (query: string, variables: Record<string, unknown> = {}) => gql(world.svc.url, query, variables, TOKENS.admin).then((r) => r.body);

test('create refuses raw secrets and bad names; admin only', async () => {
  const bad = await admin(
    `mutation($i: CreateCredentialSetInput!) { createCredentialSet(input: $i) { credentialSet { id } userErrors { code field } } }`,
    { i: { name: 'x y', codexAuthRef: 'sk-live-abcdef', githubTokenRef: 'ghp_0123456789', repositories: ['nope'] } },
  );
  expect(bad.data.createCredentialSet.credentialSet).toBeNull();
  expect(bad.data.createCredentialSet.userErrors.map((e: any) => e.code).sort()).toEqual(
    ['INVALID_NAME', 'INVALID_REPOSITORY', 'INVALID_SECRET_REF', 'INVALID_SECRET_REF'].sort(),
  );
  const operator = await gql(world.svc.url, `mutation { deleteCredentialSet(id: "${world.credentialSetId}") { deletedId } }`, {}, TOKENS.operator);
  expect(operator.body.errors[0].extensions.code).toBe('FORBIDDEN');
});

test('validateCredentialSet stores the time and no issues for working secrets', async () => {
  const r = await admin(`mutation($id: ID!) { validateCredentialSet(id: $id) { credentialSet { ${FIELDS} } userErrors { code } } }`, {
    id: world.credentialSetId,
  });
  const set = r.data.validateCredentialSet.credentialSet;
  expect(set.validationIssues).toEqual([]);
  expect(new Date(set.validatedAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
});

test('validateCredentialSet names each broken reference and how to fix it; never a secret value', async () => {
  const tokenFile = world.sandbox.credentialSet.githubTokenRef.slice('file:'.length);
  const secret = (await readFile(tokenFile, 'utf8')).trim();
  const created = await admin(
    `mutation($i: CreateCredentialSetInput!) { createCredentialSet(input: $i) { credentialSet { id } userErrors { code } } }`,
    { i: { name: 'broken', codexAuthRef: 'env:SPEC_CHAIN_TEST_NO_SUCH_VAR', githubTokenRef: world.sandbox.credentialSet.githubTokenRef, codexEnvironment: 'sandbox/widgets', repositories: ['sandbox/widgets'] } },
  );
  const id = created.data.createCredentialSet.credentialSet.id;
  await writeFile(tokenFile, 'ghs_not_a_valid_token_0000000000\n');
  try {
    const r = await admin(`mutation($id: ID!) { validateCredentialSet(id: $id) { credentialSet { ${FIELDS} } } }`, { id });
    const issues = r.data.validateCredentialSet.credentialSet.validationIssues;
    expect(issues).toContainEqual(expect.objectContaining({ ref: 'env:SPEC_CHAIN_TEST_NO_SUCH_VAR', code: 'CREDENTIALS_MISSING' }));
    expect(issues).toContainEqual(expect.objectContaining({ ref: world.sandbox.credentialSet.githubTokenRef, code: 'CREDENTIALS_INVALID' }));
    const listed = JSON.stringify(await admin(`{ credentialSets { ${FIELDS} } }`));
    expect(listed).not.toContain(secret);
    expect(listed).not.toContain('ghs_not_a_valid_token');
  } finally {
    await writeFile(tokenFile, secret + '\n');
  }
});

test('update clears the last validation; delete refuses a set runs still use', async () => {
  const upd = await admin(
    `mutation($i: UpdateCredentialSetInput!) { updateCredentialSet(input: $i) { credentialSet { ${FIELDS} } userErrors { code } } }`,
    { i: { id: world.credentialSetId, codexEnvironment: 'env_sandboxwidgets0001' } },
  );
  expect(upd.data.updateCredentialSet.credentialSet).toMatchObject({ codexEnvironment: 'env_sandboxwidgets0001', validatedAt: null });
  await world.start();
  const del = await admin(`mutation($id: ID!) { deleteCredentialSet(id: $id) { deletedId userErrors { code } } }`, { id: world.credentialSetId });
  expect(del.data.deleteCredentialSet).toEqual({ deletedId: null, userErrors: [{ code: 'IN_USE' }] });
});

const APP_FIELDS = 'id githubTokenRef githubAppId githubAppInstallationId githubAppPrivateKeyRef commitVia commitFallbackToGit';
const CREATE = `mutation($i: CreateCredentialSetInput!) { createCredentialSet(input: $i) { credentialSet { ${APP_FIELDS} } userErrors { code field } } }`;
const UPDATE = `mutation($i: UpdateCredentialSetInput!) { updateCredentialSet(input: $i) { credentialSet { ${APP_FIELDS} } userErrors { code field } } }`;

test('a GitHub App set: one GitHub credential, App ids as numbers, the key as a reference; validation checks the installation', async () => {
  const app = world.sandbox.appCredentialSet;
  const base = { codexAuthRef: app.codexAuthRef, codexEnvironment: app.codexEnvironment, repositories: app.repositories };
  const neither = await admin(CREATE, { i: { ...base, name: 'neither' } });
  expect(neither.data.createCredentialSet.userErrors).toEqual([{ code: 'GITHUB_CREDENTIAL_REQUIRED', field: 'githubTokenRef' }]);
  const both = await admin(CREATE, { i: { ...base, name: 'both', githubTokenRef: 'env:X', githubAppId: app.githubAppId, githubAppPrivateKeyRef: app.githubAppPrivateKeyRef } });
  expect(both.data.createCredentialSet.userErrors).toEqual([{ code: 'GITHUB_CREDENTIAL_REQUIRED', field: 'githubAppId' }]);
  const noKey = await admin(CREATE, { i: { ...base, name: 'no-key', githubAppId: app.githubAppId } });
  expect(noKey.data.createCredentialSet.userErrors).toEqual([{ code: 'GITHUB_CREDENTIAL_REQUIRED', field: 'githubAppPrivateKeyRef' }]);
  const raw = await admin(CREATE, { i: { ...base, name: 'raw-key', githubAppId: 'my-app', githubAppPrivateKeyRef: '-----BEGIN RSA PRIVATE KEY-----' } });
  expect(raw.data.createCredentialSet.userErrors.map((e: any) => e.code).sort()).toEqual(['INVALID_APP', 'INVALID_SECRET_REF']);

  const made = await admin(CREATE, { i: { ...base, name: 'app-set', githubAppId: app.githubAppId, githubAppPrivateKeyRef: app.githubAppPrivateKeyRef, commitVia: 'API' } });
  expect(made.data.createCredentialSet.userErrors).toEqual([]);
  const set = made.data.createCredentialSet.credentialSet;
  expect(set).toMatchObject({ githubTokenRef: null, githubAppId: app.githubAppId, githubAppInstallationId: null, commitVia: 'API', commitFallbackToGit: false });
  const validated = await admin(`mutation($id: ID!) { validateCredentialSet(id: $id) { credentialSet { validationIssues { ref code message } } } }`, { id: set.id });
  expect(validated.data.validateCredentialSet.credentialSet.validationIssues).toEqual([]);

  // A token given switches the set to it; an App given switches it back.
  const toToken = await admin(UPDATE, { i: { id: set.id, githubTokenRef: world.sandbox.credentialSet.githubTokenRef } });
  expect(toToken.data.updateCredentialSet.credentialSet).toMatchObject({ githubTokenRef: world.sandbox.credentialSet.githubTokenRef, githubAppId: null, githubAppPrivateKeyRef: null });
  const halfApp = await admin(UPDATE, { i: { id: set.id, githubAppId: app.githubAppId } });
  expect(halfApp.data.updateCredentialSet.userErrors).toEqual([{ code: 'GITHUB_CREDENTIAL_REQUIRED', field: 'githubAppPrivateKeyRef' }]);
  const toApp = await admin(UPDATE, { i: { id: set.id, githubAppId: app.githubAppId, githubAppPrivateKeyRef: app.githubAppPrivateKeyRef, githubAppInstallationId: '999' } });
  expect(toApp.data.updateCredentialSet.credentialSet).toMatchObject({ githubTokenRef: null, githubAppInstallationId: '999' });
  const wrong = await admin(`mutation($id: ID!) { validateCredentialSet(id: $id) { credentialSet { validationIssues { ref code message } } } }`, { id: set.id });
  const [issue] = wrong.data.validateCredentialSet.credentialSet.validationIssues;
  expect(issue).toMatchObject({ ref: app.githubAppPrivateKeyRef, code: 'GITHUB_APP_NOT_INSTALLED' });
  expect(issue.message).toContain('not as installation 999');
});
