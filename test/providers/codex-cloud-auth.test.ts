import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FailureCode, FailureKind } from '../../src/interfaces.js';
import { checkCodexAccess, createCodexCloudClient, jwtExpiry } from '../../src/providers/codex-cloud/index.js';
import { rejection, startCodexSandbox, type CodexSandbox } from './codex-cloud-fixture.js';

const REFERENCE = join(import.meta.dirname, '../fixtures/codex-cloud/cli-requests.jsonl');

let sandbox: CodexSandbox;
/** Every credential value handed out in this file, to scan error texts for. */
const issued: string[] = [];

beforeAll(async () => {
  sandbox = await startCodexSandbox();
});
afterAll(async () => sandbox.stop());
beforeEach(async () => {
  sandbox.emulator.reset();
  const login = await sandbox.emulator.writeAuthFile(sandbox.authPath);
  issued.push(login.access_token, login.refresh_token, login.id_token);
});

const rejected = (promise: Promise<unknown>) => rejection(promise, issued);
const readAuth = async () => JSON.parse(await readFile(sandbox.authPath, 'utf8'));
const tokenRequests = () => sandbox.emulator.requests().filter((r) => r.path === '/oauth/token');

describe('ChatGPT auth.json', () => {
  it('refreshes on a 401, retries, and writes the rotated tokens back keeping the other fields', async () => {
    const before = await readAuth();
    const client = sandbox.client();
    await client.getUsage();
    sandbox.emulator.expireTokens();

    const usage = await client.getUsage();
    expect(usage.planType).toBe('pro');
    const after = await readAuth();
    issued.push(after.tokens.access_token, after.tokens.refresh_token, after.tokens.id_token);
    expect(after.tokens.refresh_token).not.toBe(before.tokens.refresh_token);
    expect(after.tokens.access_token).not.toBe(before.tokens.access_token);
    expect(after).toMatchObject({ auth_mode: 'chatgpt', OPENAI_API_KEY: null, tokens: { account_id: before.tokens.account_id } });
    expect(Date.parse(after.last_refresh)).toBeGreaterThanOrEqual(Date.parse(before.last_refresh));

    const paths = sandbox.emulator.requests().map((r) => `${r.method} ${r.path}`);
    expect(paths).toEqual(['GET /backend-api/wham/usage', 'GET /backend-api/wham/usage', 'POST /oauth/token', 'GET /backend-api/wham/usage']);
    const [refresh] = tokenRequests();
    expect(refresh!.body).toEqual({
      client_id: 'app_EMoamEEZ73f0CkXaXp7hrann',
      grant_type: 'refresh_token',
      refresh_reason: 'proactive_expiry',
      refresh_token: before.tokens.refresh_token,
    });
    const cli = (await readFile(REFERENCE, 'utf8')).trim().split('\n').map((l) => JSON.parse(l)).find((r) => r.path === '/oauth/token');
    expect(Object.keys(refresh!.body as object)).toEqual(Object.keys(cli.body));
  });

  it('serializes concurrent refreshes: one refresh for many requests and two clients', async () => {
    const [a, b] = [sandbox.client(), sandbox.client()];
    await Promise.all([a.getUsage(), b.getUsage()]);
    sandbox.emulator.expireTokens();
    const results = await Promise.all([...Array.from({ length: 4 }, () => a.getUsage()), ...Array.from({ length: 4 }, () => b.getUsage())]);
    expect(results.every((u) => u.planType === 'pro')).toBe(true);
    expect(tokenRequests()).toHaveLength(1);
    expect(sandbox.emulator.refreshCount()).toBeGreaterThanOrEqual(1);
    // The refresh token written back is the live one: a later refresh still works.
    sandbox.emulator.expireTokens();
    await a.getUsage();
    expect(tokenRequests()).toHaveLength(2);
  });

  it('reuses a refresh another process wrote to the file instead of refreshing again', async () => {
    const client = sandbox.client();
    await client.getUsage();
    sandbox.emulator.expireTokens();
    // "Another process" signs in again and rewrites the file.
    const other = await sandbox.emulator.writeAuthFile(sandbox.authPath);
    issued.push(other.access_token, other.refresh_token, other.id_token);
    await client.getUsage();
    expect(tokenRequests()).toHaveLength(0);
  });

  it('refreshes before the first call when the access token is about to expire', async () => {
    const login = await sandbox.emulator.writeAuthFile(sandbox.authPath, { ttlSeconds: 20 });
    issued.push(login.access_token, login.refresh_token);
    expect(jwtExpiry(login.access_token)! - Date.now()).toBeLessThan(21_000);
    await sandbox.client().getUsage();
    expect(sandbox.emulator.requests().map((r) => r.path)).toEqual(['/oauth/token', '/backend-api/wham/usage']);
    const after = await readAuth();
    issued.push(after.tokens.access_token, after.tokens.refresh_token);
    expect(jwtExpiry(after.tokens.access_token)! - Date.now()).toBeGreaterThan(3_000_000);
  });

  it('halts with CREDENTIALS_EXPIRED naming the reference when the refresh token is dead', async () => {
    const client = sandbox.client();
    sandbox.emulator.expireTokens({ refreshTokens: true });
    const error = await rejected(client.getUsage());
    expect(error).toMatchObject({ kind: FailureKind.CREDENTIALS, code: FailureCode.CREDENTIALS_EXPIRED, secretRef: sandbox.authRef });
    expect(error.message).toContain(sandbox.authRef);
    expect(error.message).toContain('codex login');
  });

  it('keeps rotating tokens in memory for an env: reference it cannot write', async () => {
    process.env.CODEX_TEST_AUTH_JSON = await readFile(sandbox.authPath, 'utf8');
    const client = createCodexCloudClient({ authRef: 'env:CODEX_TEST_AUTH_JSON', baseUrl: sandbox.emulator.baseUrl, authUrl: sandbox.emulator.authUrl });
    for (let i = 0; i < 3; i += 1) {
      sandbox.emulator.expireTokens();
      expect((await client.getUsage()).planType).toBe('pro');
    }
    expect(tokenRequests()).toHaveLength(3);
    delete process.env.CODEX_TEST_AUTH_JSON;
  });
});

describe('Codex access token and refused secrets', () => {
  it('asks whoami for the account of an at- token, then uses both', async () => {
    const token = sandbox.emulator.issueAccessToken();
    issued.push(token);
    process.env.CODEX_TEST_AT = token;
    const client = createCodexCloudClient({ authRef: 'env:CODEX_TEST_AT', baseUrl: sandbox.emulator.baseUrl, authUrl: sandbox.emulator.authUrl });
    await client.resolveEnvironment('sandbox/widgets', 'env_widgets');
    const [whoami, ...rest] = sandbox.emulator.requests();
    expect(whoami!.path).toBe('/api/accounts/v1/user-auth-credential/whoami');
    expect(rest.map((r) => r.path)).toEqual(['/backend-api/wham/environments/by-repo/github/sandbox/widgets', '/backend-api/wham/environments']);
    expect(rest.every((r) => r.header_names.includes('chatgpt-account-id'))).toBe(true);

    sandbox.emulator.expireTokens();
    const error = await rejected(client.getUsage());
    expect(error).toMatchObject({ kind: FailureKind.CREDENTIALS, code: FailureCode.CREDENTIALS_INVALID, secretRef: 'env:CODEX_TEST_AT' });
    delete process.env.CODEX_TEST_AT;
  });

  it('refuses an OpenAI API key before calling anything', async () => {
    process.env.CODEX_TEST_SK = 'sk-proj-0123456789abcdefghijklmnop';
    issued.push(process.env.CODEX_TEST_SK);
    const client = createCodexCloudClient({ authRef: 'env:CODEX_TEST_SK', baseUrl: sandbox.emulator.baseUrl, authUrl: sandbox.emulator.authUrl });
    const error = await rejected(client.getUsage());
    expect(error).toMatchObject({ kind: FailureKind.CREDENTIALS, code: FailureCode.CREDENTIALS_INVALID, secretRef: 'env:CODEX_TEST_SK' });
    expect(error.message).toMatch(/ChatGPT sign-in/);
    expect(error.message).toMatch(/access token/);
    expect(sandbox.emulator.requests()).toHaveLength(0);
    delete process.env.CODEX_TEST_SK;
  });

  it('reports a missing secret as CREDENTIALS_MISSING', async () => {
    const client = createCodexCloudClient({ authRef: 'file:/nonexistent/auth.json', baseUrl: sandbox.emulator.baseUrl });
    const error = await rejected(client.getUsage());
    expect(error).toMatchObject({ kind: FailureKind.CREDENTIALS, code: FailureCode.CREDENTIALS_MISSING, secretRef: 'file:/nonexistent/auth.json' });
  });

  it('calls a token the service refuses without a refresh token CREDENTIALS_INVALID', async () => {
    const auth = await readAuth();
    delete auth.tokens.refresh_token;
    await writeFile(sandbox.authPath, JSON.stringify(auth));
    sandbox.emulator.expireTokens();
    const error = await rejected(sandbox.client().getUsage());
    expect(error.kind).toBe(FailureKind.CREDENTIALS);
    expect(error.secretRef).toBe(sandbox.authRef);
  });
});

describe('checkCodexAccess', () => {
  const check = (overrides: Partial<Parameters<typeof checkCodexAccess>[0]> = {}) =>
    checkCodexAccess({
      ref: sandbox.authRef,
      environment: 'widgets',
      repository: 'sandbox/widgets',
      baseUrl: sandbox.emulator.baseUrl,
      authUrl: sandbox.emulator.authUrl,
      ...overrides,
    });

  it('finds nothing wrong with a good sign-in and environment', async () => {
    expect(await check()).toEqual([]);
  });

  it('names the environment setting when the environment is missing or ambiguous', async () => {
    const [missing] = await check({ environment: 'nope' });
    expect(missing).toMatchObject({ ref: 'codexEnvironment', code: FailureCode.CODEX_ENVIRONMENT_NOT_FOUND });
    const [ambiguous] = await check({ environment: 'shared' });
    expect(ambiguous).toMatchObject({ ref: 'codexEnvironment', code: FailureCode.CODEX_ENVIRONMENT_AMBIGUOUS });
    const [unset] = await check({ environment: null });
    expect(unset).toMatchObject({ ref: 'codexEnvironment', code: FailureCode.CODEX_ENVIRONMENT_NOT_FOUND });
  });

  it('names the secret when the credentials are refused or expired for good', async () => {
    process.env.CODEX_TEST_SK2 = 'sk-0123456789abcdefghijklmnop';
    const [apiKey] = await check({ ref: 'env:CODEX_TEST_SK2' });
    expect(apiKey).toMatchObject({ ref: 'env:CODEX_TEST_SK2', code: FailureCode.CREDENTIALS_INVALID });
    delete process.env.CODEX_TEST_SK2;

    // Expired but refreshable is fine (and refreshes); expired with a dead refresh token is not.
    const login = await sandbox.emulator.writeAuthFile(sandbox.authPath, { ttlSeconds: -10 });
    issued.push(login.access_token, login.refresh_token);
    expect(await check()).toEqual([]);
    await sandbox.emulator.writeAuthFile(sandbox.authPath, { ttlSeconds: -10 });
    sandbox.emulator.expireTokens({ refreshTokens: true });
    const [expired] = await check();
    expect(expired).toMatchObject({ ref: sandbox.authRef, code: FailureCode.CREDENTIALS_EXPIRED });
  });

  it('throws a passing outage instead of calling it a configuration issue', async () => {
    sandbox.emulator.script({ kind: 'http-error', status: 503, count: 2 });
    await expect(check()).rejects.toMatchObject({ kind: FailureKind.TRANSIENT });
  });
});
