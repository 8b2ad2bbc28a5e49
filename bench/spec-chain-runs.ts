import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'graphql-ws';
import type { DataSource } from 'typeorm';
import { createCredentialSet } from '../src/credential-sets/store.js';
import { STEP_ORDER } from '../src/interfaces.js';
import { startWorking } from '../src/jobs/runner.js';
import { SANDBOX_FEATURE, SANDBOX_REPOSITORY, startSandbox } from '../src/sandbox/index.js';
import type { ChainUnderTest } from './chain-figures.js';
import { pushFeatures } from './features.js';
import { gql, SocketPool, startService, TOKENS, wsClient } from './service.js';
import { ms } from './stats.js';

const START = `mutation($input: StartSpecPhaseInput!) {
  startSpecPhase(input: $input) { run { id } userErrors { code message } }
}`;
const RUN_UPDATED = `subscription($runId: ID!) {
  runUpdated(runId: $runId, afterVersion: 0) {
    version
    event { step to }
    run { status failure { code message } }
  }
}`;
const FINAL = ['SUCCEEDED', 'NO_WORK', 'FAILED', 'CANCELLED'];
/** A run alone ends in seconds; many in flight share two cores with their git work, so they get longer. */
const RUN_TIMEOUT_MS = { alone: 120_000, inFlight: 30 * 60_000 };

/** The moment the run's final transition was pushed to `client` (performance.now()); rejects unless it SUCCEEDED. */
function succeeded(client: Client, runId: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`run ${runId} did not end within ${timeoutMs} ms`));
    }, timeoutMs);
    const stop = client.subscribe<any>(
      { query: RUN_UPDATED, variables: { runId } },
      {
        next: (msg) => {
          const at = performance.now();
          if (msg.errors) return reject(new Error(JSON.stringify(msg.errors)));
          const update = msg.data.runUpdated;
          if (update.event.step !== null || !FINAL.includes(update.event.to)) return;
          clearTimeout(timer);
          stop();
          if (update.run.status === 'SUCCEEDED') resolve(at);
          else reject(new Error(`run ${runId} ended ${update.run.status}: ${JSON.stringify(update.run.failure)}`));
        },
        error: (e) => reject(e instanceof Error ? e : new Error(String((e as { reason?: string })?.reason ?? e))),
        complete: () => {},
      },
    );
  });
}

/**
 * Each step's p50 queue wait (QUEUED → RUNNING) and work (RUNNING → SUCCEEDED) over the last `runs` runs,
 * from the event log's own clock (clock_timestamp() when each transition was written).
 */
async function whereTimeGoes(ds: DataSource, runs: number, label: string): Promise<string> {
  const rows: { step: string; wait: number; work: number }[] = await ds.query(
    `WITH recent AS (SELECT id FROM spec_workflow_run WHERE status = 'SUCCEEDED' ORDER BY created_at DESC LIMIT $1),
     steps AS (
       SELECT step::text AS step,
         extract(epoch FROM max(at) FILTER (WHERE to_state = 'RUNNING') - max(at) FILTER (WHERE to_state = 'QUEUED')) * 1000 AS wait,
         extract(epoch FROM max(at) FILTER (WHERE to_state = 'SUCCEEDED') - max(at) FILTER (WHERE to_state = 'RUNNING')) * 1000 AS work
       FROM run_event WHERE step IS NOT NULL AND run_id IN (SELECT id FROM recent) GROUP BY run_id, step)
     SELECT step, percentile_cont(0.5) WITHIN GROUP (ORDER BY wait) AS wait, percentile_cont(0.5) WITHIN GROUP (ORDER BY work) AS work
     FROM steps GROUP BY step`,
    [runs],
  );
  const byStep = new Map(rows.map((r) => [r.step, r]));
  const parts = STEP_ORDER.map((step) => byStep.get(step)).filter((r) => r !== undefined);
  return (
    `- Where a run's time goes, ${label} (p50 per step from the event log's clock): ` +
    parts.map((r) => `${r.step.toLowerCase()} waits ${ms(r.wait)} ms in its queue and works ${ms(r.work)} ms`).join('; ') +
    '. The work is the step\'s outside calls (git fetch, worktree, apply, commit, push; the emulators\' HTTP, whose Codex agent runs git too) plus its claim and completion.'
  );
}

/**
 * The service as `spec-chain start` runs it, in this process: API, feed and step workers on `databaseUrl`,
 * the Codex Cloud and GitHub emulators answering at once (READY on the first poll, no mutation spacing).
 * A run starts with startSpecPhase over HTTP and ends at the push of its SUCCEEDED transition.
 */
export async function startSpecChain(databaseUrl: string): Promise<ChainUnderTest> {
  const dir = await mkdtemp(join(tmpdir(), 'spec-chain-bench-'));
  const sandbox = await startSandbox(join(dir, 'sandbox'));
  const svc = await startService(
    databaseUrl,
    {
      DATA_DIR: dir,
      ...sandbox.environment,
      CODEX_POLL_INTERVAL_SECONDS: '1',
      GITHUB_MUTATION_INTERVAL_MS: '0',
    },
    { supervise: true },
  );
  const working = await startWorking(svc.app);
  const { credentialSet } = await createCredentialSet(svc.app.ds, sandbox.credentialSet, { sandbox: true });
  // Runs one after another watch on one socket; runs in flight spread over sockets of 20 subscriptions.
  const socket = wsClient(svc.url);
  const sockets = new SocketPool(svc.url);

  const run = async (client: () => Client, timeoutMs: number, input: Record<string, unknown>): Promise<number> => {
    const started = performance.now();
    const { startSpecPhase } = await gql(svc.url, START, { input: { repository: SANDBOX_REPOSITORY, credentialSetId: credentialSet!.id, ...input } }, TOKENS.operator);
    if (startSpecPhase.userErrors.length) throw new Error(`startSpecPhase refused: ${JSON.stringify(startSpecPhase.userErrors)}`);
    return (await succeeded(client(), startSpecPhase.run.id, timeoutMs)) - started;
  };

  return {
    databaseUrl,
    // One feature: a run of it may start only when the one before has ended.
    one: () => run(() => socket, RUN_TIMEOUT_MS.alone, { featureId: SANDBOX_FEATURE }),
    many: async (n) => {
      const bare = join(sandbox.gitRoot, 'sandbox', 'widgets.git');
      const branch = `bench-${n}-features`;
      const features = await pushFeatures(bare, { base: 'main', branch, source: SANDBOX_FEATURE, count: n });
      const started = performance.now();
      const each = await Promise.all(features.map((featureId) => run(() => sockets.next(), RUN_TIMEOUT_MS.inFlight, { featureId, baseBranch: branch })));
      return { wallMs: performance.now() - started, each };
    },
    notes: async (runs, label) => [await whereTimeGoes(svc.app.ds, runs, label)],
    close: async () => {
      await Promise.all([socket.dispose(), sockets.close()]);
      await working.stop();
      await svc.close();
      await sandbox.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
