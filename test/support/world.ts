import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { startWorking } from '../../src/jobs/runner.js';
import { startSandbox, SANDBOX_FEATURE, SANDBOX_REPOSITORY, type Sandbox } from '../../src/sandbox/index.js';
import { createTestDatabase } from './database.js';
import { addFeatures } from './repo.js';
import { gql, startService, TOKENS, type TestService } from './service.js';

export const RUN_FIELDS = `id status statusMessage featureId repository version currentStep sandbox retryOf
  phase { id title openTaskIds }
  steps { step state attempt tries message errorCode startedAt finishedAt }
  outputs { codexTaskId codexTaskUrl branch commitSha pullRequestNumber pullRequestUrl }
  failure { code step message remediation retryModes retryAdvice notesRequired }
  artifacts { kind url sha256 size }`;

const FINAL = ['SUCCEEDED', 'IN_REVIEW', 'NO_WORK', 'FAILED', 'CANCELLED'];

/**
 * Everything a run needs, for real: a fresh database, the service over HTTP/WebSocket with its workers,
 * the Codex Cloud and GitHub emulators and the demo repository, and a credential set for them.
 */
export interface World {
  svc: TestService;
  sandbox: Sandbox;
  dir: string;
  /** The demo repository's bare repository (sandbox/widgets), where tests push as GitHub users would. */
  demoRepository: string;
  credentialSetId: string;
  env: Record<string, string>;
  databaseUrl: string;
  start(input?: Record<string, unknown>): Promise<any>;
  run(id: string): Promise<any>;
  waitFor(id: string, until?: (run: any) => boolean, timeoutMs?: number): Promise<any>;
  events(id: string): Promise<any[]>;
  codexTasksCreated(): number;
  /**
   * A feature of its own on the demo repository's main (one phase, one task), for a test that starts
   * a run of its own: the demo's feature has a pull request in review once one run published it.
   */
  freshFeature(): Promise<string>;
  /** Another credential set for the same emulators (its own Codex sign-in and the same GitHub token). */
  addCredentialSet(name: string, fields?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

export async function startWorld(
  options: { env?: Record<string, string>; workers?: boolean; databaseUrl?: string; logLines?: string[] } = {},
): Promise<World> {
  const db = options.databaseUrl ? { url: options.databaseUrl, drop: async () => {} } : await createTestDatabase();
  const dir = await mkdtemp(join(tmpdir(), 'spec-chain-world-'));
  const sandbox = await startSandbox(join(dir, 'sandbox'));
  const env: Record<string, string> = {
    DATA_DIR: dir,
    ...sandbox.environment,
    CODEX_POLL_INTERVAL_SECONDS: '1',
    CODEX_POLL_MAX_INTERVAL_SECONDS: '1',
    STEP_RETRY_LIMIT: '2',
    ...options.env,
  };
  const svc = await startService(db.url, env, { logLines: options.logLines });
  const working = options.workers === false ? null : await startWorking(svc.app);
  const created = await gql(
    svc.url,
    `mutation($input: CreateCredentialSetInput!) { createCredentialSet(input: $input) { credentialSet { id } userErrors { code message } } }`,
    { input: sandbox.credentialSet },
  );
  const credentialSetId = created.body.data.createCredentialSet.credentialSet.id as string;
  await svc.app.ds.query('UPDATE credential_set SET sandbox = true WHERE id = $1', [credentialSetId]);

  let nextFeature = 900;
  let pushing: Promise<unknown> = Promise.resolve();
  const world: World = {
    svc,
    sandbox,
    dir,
    demoRepository: join(sandbox.gitRoot, 'sandbox', 'widgets.git'),
    credentialSetId,
    env,
    databaseUrl: db.url,
    async start(input = {}) {
      const r = await gql(
        svc.url,
        `mutation($input: StartSpecPhaseInput!) { startSpecPhase(input: $input) { run { ${RUN_FIELDS} } userErrors { code field message } } }`,
        { input: { repository: SANDBOX_REPOSITORY, featureId: SANDBOX_FEATURE, credentialSetId, ...input } },
        TOKENS.operator,
      );
      expect(r.body.errors).toBeUndefined();
      return r.body.data.startSpecPhase;
    },
    async run(id) {
      const r = await gql(svc.url, `query($id: ID!) { run(id: $id) { ${RUN_FIELDS} } }`, { id }, TOKENS.viewer);
      return r.body.data.run;
    },
    async waitFor(id, until = (run) => FINAL.includes(run.status), timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const run = await world.run(id);
        if (until(run)) return run;
        if (Date.now() > deadline) throw new Error(`run ${id} still ${run.status} (${JSON.stringify(run.steps)})`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async events(id) {
      const r = await gql(svc.url, `query($id: ID!) { run(id: $id) { events { version step attempt from to payload } } }`, { id }, TOKENS.viewer);
      return r.body.data.run.events;
    },
    freshFeature() {
      // One push to main at a time: two at once would race for its tip.
      const number = nextFeature++;
      const added = pushing.then(() => addFeatures(world.demoRepository, 1, number));
      pushing = added.catch(() => []);
      return added.then((ids) => ids[0]!);
    },
    codexTasksCreated: () => sandbox.codex.requests().filter((q) => q.method === 'POST' && q.path.endsWith('/wham/tasks')).length,
    async addCredentialSet(name, fields = {}) {
      const authFile = join(dir, `codex-auth-${name}.json`);
      await sandbox.codex.writeAuthFile(authFile);
      const r = await gql(
        svc.url,
        `mutation($input: CreateCredentialSetInput!) { createCredentialSet(input: $input) { credentialSet { id } userErrors { code message } } }`,
        { input: { ...sandbox.credentialSet, name, codexAuthRef: `file:${authFile}`, ...fields } },
      );
      expect(r.body.data.createCredentialSet.userErrors).toEqual([]);
      const id = r.body.data.createCredentialSet.credentialSet.id as string;
      await svc.app.db.query('UPDATE credential_set SET sandbox = true WHERE id = $1', [id]);
      return id;
    },
    async close() {
      await working?.stop();
      await svc.close();
      await sandbox.stop();
      await db.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return world;
}

/** The event log holds versions 1..n with no gap, in order. */
export function expectGapless(events: { version: number }[]): void {
  expect(events.map((e) => e.version)).toEqual(events.map((_, i) => i + 1));
}
