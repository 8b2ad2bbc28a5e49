import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { freePort } from '../../src/db/embedded.js';
import { PROJECT_ROOT } from '../../src/server/paths.js';

// `npm start` as a newcomer runs it: in a terminal (its own process group), stopped with Ctrl-C, which
// sends SIGINT to the whole group (npm forwards one more to node), then started again.

interface Started {
  child: ChildProcess;
  output: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

// Inside the checkout: the embedded PostgreSQL runs as the postgres user, which cannot enter a 0700 temp folder.
const dataDir = join(PROJECT_ROOT, '.data', `test-start-${randomBytes(4).toString('hex')}`);

function npmStart(port: number): Started {
  let output = '';
  const child = spawn('npm', ['start'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'info', DATABASE_URL: '', API_TOKENS: '', API_TOKENS_FILE: '' },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, output: () => output, exit };
}

async function ready(url: string, started: Started): Promise<void> {
  for (;;) {
    const exited = await Promise.race([started.exit.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 100))]);
    if (exited) throw new Error(`npm start exited before it was ready:\n${started.output()}`);
    const ok = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ok) return;
  }
}

/** Ctrl-C in a terminal: SIGINT to every process of the group. */
async function interrupt(started: Started): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  process.kill(-started.child.pid!, 'SIGINT');
  return started.exit;
}

/** PostgreSQL processes serving this data folder. */
function postgresOfDataDir(): string[] {
  const ps = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return ps.split('\n').filter((line) => line.includes(join(dataDir, 'postgres', 'data')) && !line.includes(' ps '));
}

async function gql(url: string, token: string, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as { data?: any; errors?: unknown[] } };
}

describe('npm start, Ctrl-C, npm start', () => {
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  test('stops cleanly on a terminal Ctrl-C and comes back with the same token and working links', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;

    const first = npmStart(port);
    await ready(url, first);
    const tokenFile = join(dataDir, 'admin-token');
    const token = readFileSync(tokenFile, 'utf8').trim();
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect(first.output()).toContain(`generated a local admin token, kept in ${tokenFile}`);
    expect(first.output()).toContain(token);
    const credentialSetId = /credential set "sandbox" = ([0-9a-f-]{36})/.exec(first.output())![1];

    const started = await gql(url, token, `mutation($cs: ID!) { startSpecPhase(input: { repository: "sandbox/widgets", featureId: "001-greeting", credentialSetId: $cs }) { run { id } userErrors { message } } }`, { cs: credentialSetId });
    const runId = started.body.data.startSpecPhase.run.id as string;
    let run: any;
    for (let i = 0; ; i++) {
      run = (await gql(url, token, `query($id: ID!) { run(id: $id) { status outputs { pullRequestUrl codexTaskUrl } } }`, { id: runId })).body.data.run;
      if (!['QUEUED', 'RUNNING'].includes(run.status)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(run.status).toBe('SUCCEEDED');
    // The emulators are served under the main port, not on ports of their own.
    expect(run.outputs.pullRequestUrl).toMatch(new RegExp(`^${url}/sandbox/github/`));
    expect(run.outputs.codexTaskUrl).toMatch(new RegExp(`^${url}/sandbox/codex/`));
    expect(postgresOfDataDir()).toHaveLength(1);

    const stopped = await interrupt(first);
    expect(stopped).toEqual({ code: 0, signal: null });
    expect(first.output()).toContain('"msg":"shutting down"');
    expect(first.output()).toContain('"msg":"stopped"');
    expect(first.output()).not.toContain('forced stop');
    expect(postgresOfDataDir()).toEqual([]);
    expect((await fetch(`${url}/healthz`).catch(() => null))).toBeNull();

    const second = npmStart(port);
    await ready(url, second);
    expect(second.output()).toContain(`using the local admin token, kept in ${tokenFile}`);
    expect((await gql(url, token, '{ me { role } }')).body).toEqual({ data: { me: { role: 'admin' } } });
    const pr = await fetch(run.outputs.pullRequestUrl);
    expect(pr.status).toBe(200);
    expect(await pr.text()).toContain('001-greeting: Phase 1');
    const task = await fetch(run.outputs.codexTaskUrl);
    expect(task.status).toBe(200);
    expect(await task.text()).toContain('completed');

    // Beside it, the App set: its key kept across the restart, tokens minted and commits made by GitHub, Verified.
    const appSetId = /"sandbox-app" = ([0-9a-f-]{36})/.exec(second.output())![1];
    const appStarted = await gql(url, token, `mutation($cs: ID!) { startSpecPhase(input: { repository: "sandbox/widgets", featureId: "002-pricing", credentialSetId: $cs }) { run { id } userErrors { message } } }`, { cs: appSetId });
    const appRunId = appStarted.body.data.startSpecPhase.run.id as string;
    let appRun: any;
    for (;;) {
      appRun = (await gql(url, token, `query($id: ID!) { run(id: $id) { status failure { code message } outputs { branch commitSha } } }`, { id: appRunId })).body.data.run;
      if (!['QUEUED', 'RUNNING'].includes(appRun.status)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(appRun.status, JSON.stringify(appRun.failure)).toBe('SUCCEEDED');
    const sandboxToken = readFileSync(join(dataDir, 'sandbox', 'github-token'), 'utf8').trim();
    const head = await fetch(`${url}/sandbox/github/graphql`, {
      method: 'POST',
      headers: { authorization: `token ${sandboxToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ repository(owner: "sandbox", name: "widgets") { ref(qualifiedName: "refs/heads/${appRun.outputs.branch}") { target { oid ... on Commit { signature { isValid } } } } } }` }),
    });
    expect((await head.json()).data.repository.ref.target).toEqual({ oid: appRun.outputs.commitSha, signature: { isValid: true } });

    // Deleting the kept token revokes it (SIGHUP re-reads it at once, as the next start would).
    await rm(tokenFile);
    const node = execFileSync('pgrep', ['-P', String(second.child.pid), '-f', 'cli.js start'], { encoding: 'utf8' }).trim();
    process.kill(Number(node), 'SIGHUP');
    await expect.poll(async () => (await gql(url, token, '{ me { role } }')).status).toBe(401);

    // More interrupts than one Ctrl-C sends still end in the orderly stop.
    process.kill(-second.child.pid!, 'SIGINT');
    process.kill(-second.child.pid!, 'SIGINT');
    expect(await second.exit).toEqual({ code: 0, signal: null });
    expect(second.output()).toContain('"msg":"stopped"');
    expect(postgresOfDataDir()).toEqual([]);
  }, 180_000);
});
