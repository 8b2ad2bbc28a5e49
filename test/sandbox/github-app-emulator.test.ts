import { execFileSync } from 'node:child_process';
import { createSign, generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitHubEmulator, type GitHubEmulator } from '../../src/sandbox/github/index.js';
import { makeRemote, tempDir } from '../providers/git-fixture.js';

const KEY = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
const FOREIGN = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });

let emulator: GitHubEmulator;
let bare: string;
let mainSha: string;

/** A JWT as GitHub's docs describe it: RS256, iss the App id, issued now, expiring within ten minutes. */
function jwt(claims: Record<string, unknown> = {}, key = KEY.privateKey, alg = 'RS256'): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${part({ alg, typ: 'JWT' })}.${part({ iat: now - 30, exp: now + 540, iss: '7', ...claims })}`;
  return `${body}.${createSign('RSA-SHA256').update(body).sign(key).toString('base64url')}`;
}

const rest = async (method: string, path: string, token: string) => {
  const res = await fetch(`${emulator.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, accept: 'application/vnd.github+json' } });
  return { status: res.status, body: await res.json() };
};
const graphql = async (token: string, query: string, variables: Record<string, unknown> = {}) => {
  const res = await fetch(`${emulator.url}/graphql`, { method: 'POST', headers: { authorization: `token ${token}` }, body: JSON.stringify({ query, variables }) });
  return { status: res.status, body: await res.json() };
};

const COMMIT = `mutation($head: GitObjectID!, $additions: [FileAddition!], $deletions: [FileDeletion!]) {
  createCommitOnBranch(input: { branch: { repositoryNameWithOwner: "acme/widgets", branchName: "work" }, expectedHeadOid: $head,
    message: { headline: "Add a file", body: "spec-chain-run: 1" }, fileChanges: { additions: $additions, deletions: $deletions } }) {
    commit { oid message tree { oid } signature { isValid state wasSignedByGitHub } }
  }
}`;

beforeAll(async () => {
  const root = tempDir();
  const gitRoot = join(root, 'git');
  mainSha = makeRemote(gitRoot, 'acme/widgets', { 'README.md': '# widgets\n', 'old.txt': 'old\n' });
  makeRemote(gitRoot, 'acme/widgets', { 'README.md': '# widgets\n', 'old.txt': 'old\n' }, 'work');
  makeRemote(gitRoot, 'acme/elsewhere', { 'README.md': '# elsewhere\n' });
  bare = join(gitRoot, 'acme', 'widgets.git');
  emulator = await startGitHubEmulator({
    gitRoot,
    tokens: {},
    apps: { '7': { publicKey: KEY.publicKey, slug: 'maker', installations: [{ id: 70, account: 'acme', repositories: ['acme/widgets'], permissions: { contents: 'write', pull_requests: 'write' } }] } },
  });
});
afterAll(async () => emulator?.stop());

describe('App endpoints check the JWT as GitHub does', () => {
  it('mints an installation token that expires in an hour', async () => {
    const { status, body } = await rest('POST', '/app/installations/70/access_tokens', jwt());
    expect(status).toBe(201);
    expect(body.token).toMatch(/^ghs_/);
    expect(Date.parse(body.expires_at) - Date.now()).toBeGreaterThan(59 * 60_000);
    expect(body.permissions).toEqual({ contents: 'write', pull_requests: 'write' });
  });

  it.each([
    ['signed with another key', () => jwt({}, FOREIGN.privateKey), 'A JSON web token could not be decoded'],
    ['not RS256', () => jwt({}, KEY.privateKey, 'HS256'), 'A JSON web token could not be decoded'],
    ['for another App', () => jwt({ iss: '8' }), 'A JSON web token could not be decoded'],
    ['expired', () => jwt({ exp: Math.floor(Date.now() / 1000) - 1 }), "'Expiration time' claim"],
    ['valid for more than ten minutes', () => jwt({ exp: Math.floor(Date.now() / 1000) + 3600 }), 'too far in the future'],
    ['not a JWT', () => 'ghs_plain', 'A JSON web token could not be decoded'],
  ])('refuses a JWT %s with 401', async (_, make, message) => {
    const { status, body } = await rest('POST', '/app/installations/70/access_tokens', make());
    expect(status).toBe(401);
    expect(body.message).toContain(message);
  });

  it('answers the installation of a repository, and 404 where the App is not installed', async () => {
    const found = await rest('GET', '/repos/acme/widgets/installation', jwt());
    expect(found).toMatchObject({ status: 200, body: { id: 70, app_id: 7, permissions: { contents: 'write' } } });
    expect((await rest('GET', '/repos/acme/elsewhere/installation', jwt())).status).toBe(404);
    expect((await rest('POST', '/app/installations/71/access_tokens', jwt())).status).toBe(404);
  });

  it('a token sees only its installation’s repositories, and stops working when it expires', async () => {
    const { body } = await rest('POST', '/app/installations/70/access_tokens', jwt());
    const seen = await graphql(body.token, '{ viewer { login } repository(owner: "acme", name: "elsewhere") { id } }');
    expect(seen.body.data.viewer.login).toBe('maker[bot]');
    expect(seen.body.errors[0].type).toBe('NOT_FOUND');
    expect(emulator.apps.expireTokens()).toBeGreaterThan(0);
    expect((await graphql(body.token, '{ viewer { login } }')).status).toBe(401);
  });
});

describe('createCommitOnBranch', () => {
  it('writes a real commit on the branch from whole files, signed by GitHub; a moved head is STALE_DATA', async () => {
    const { body } = await rest('POST', '/app/installations/70/access_tokens', jwt());
    const head = execFileSync('git', ['rev-parse', 'refs/heads/work'], { cwd: bare, encoding: 'utf8' }).trim();
    const made = await graphql(body.token, COMMIT, {
      head,
      additions: [{ path: 'docs/new.md', contents: Buffer.from('new\n').toString('base64') }],
      deletions: [{ path: 'old.txt' }],
    });
    expect(made.body.errors).toBeUndefined();
    const commit = made.body.data.createCommitOnBranch.commit;
    expect(commit.signature).toEqual({ isValid: true, state: 'VALID', wasSignedByGitHub: true });
    expect(commit.message).toBe('Add a file\n\nspec-chain-run: 1');
    const git = (...args: string[]) => execFileSync('git', args, { cwd: bare, encoding: 'utf8' }).trim();
    expect(git('rev-parse', 'refs/heads/work')).toBe(commit.oid);
    expect(git('rev-parse', `${commit.oid}^`)).toBe(head);
    expect(git('ls-tree', '-r', '--name-only', commit.oid).split('\n').sort()).toEqual(['README.md', 'docs/new.md']);
    expect(git('show', `${commit.oid}:docs/new.md`)).toBe('new');
    expect(git('log', '-1', '--format=%an|%cn', commit.oid)).toBe('maker[bot]|GitHub');
    expect(commit.tree.oid).toBe(git('rev-parse', `${commit.oid}^{tree}`));

    const stale = await graphql(body.token, COMMIT, { head, additions: [{ path: 'x', contents: 'eA==' }] });
    expect(stale.body.errors[0].type).toBe('STALE_DATA');
    const badBase64 = await graphql(body.token, COMMIT, { head: commit.oid, additions: [{ path: 'x', contents: 'not base64!' }] });
    expect(badBase64.body.errors[0].type).toBe('UNPROCESSABLE');
    const escape = await graphql(body.token, COMMIT, { head: commit.oid, additions: [{ path: '../x', contents: 'eA==' }] });
    expect(escape.body.errors[0].type).toBe('UNPROCESSABLE');
    expect(git('rev-parse', 'refs/heads/work')).toBe(commit.oid);
    // A commit pushed with git is not GitHub's: no signature.
    const pushed = await graphql(body.token, '{ repository(owner: "acme", name: "widgets") { ref(qualifiedName: "refs/heads/main") { target { oid ... on Commit { signature { isValid } } } } } }');
    expect(pushed.body.data.repository.ref.target).toEqual({ oid: mainSha, signature: null });
  });
});
