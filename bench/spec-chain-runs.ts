import { fork } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from 'graphql-ws';
import type { DataSource } from 'typeorm';
import { createCredentialSet } from '../src/credential-sets/store.js';
import { STEP_ORDER } from '../src/interfaces.js';
import { startWorking } from '../src/jobs/runner.js';
import { gitCpu, gitProcessesStarted } from '../src/providers/git/index.js';
import { SANDBOX_FEATURE } from '../src/sandbox/index.js';
import type { ChainUnderTest } from './chain-figures.js';
import { addFeatures, git, type EmulatorsReady } from './large-repo.js';
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
const FINAL = ['SUCCEEDED', 'IN_REVIEW', 'NO_WORK', 'FAILED', 'CANCELLED'];
/** Features made at a time for the one-after-another runs: each run needs a phase no run has published yet. */
const SINGLES_BATCH = 100;
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
async function whereTimeGoes(ds: DataSource, repository: string, runs: number, label: string): Promise<string> {
  const rows: { step: string; wait: number; work: number }[] = await ds.query(
    `WITH recent AS (SELECT id FROM spec_workflow_run WHERE status = 'SUCCEEDED' AND repository = $2 ORDER BY created_at DESC LIMIT $1),
     steps AS (
       SELECT step::text AS step,
         extract(epoch FROM max(at) FILTER (WHERE to_state = 'RUNNING') - max(at) FILTER (WHERE to_state = 'QUEUED')) * 1000 AS wait,
         extract(epoch FROM max(at) FILTER (WHERE to_state = 'SUCCEEDED') - max(at) FILTER (WHERE to_state = 'RUNNING')) * 1000 AS work
       FROM run_event WHERE step IS NOT NULL AND run_id IN (SELECT id FROM recent) GROUP BY run_id, step)
     SELECT step, percentile_cont(0.5) WITHIN GROUP (ORDER BY wait) AS wait, percentile_cont(0.5) WITHIN GROUP (ORDER BY work) AS work
     FROM steps GROUP BY step`,
    [runs, repository],
  );
  const byStep = new Map(rows.map((r) => [r.step, r]));
  const parts = STEP_ORDER.map((step) => byStep.get(step)).filter((r) => r !== undefined);
  return (
    `- Where a ${repository} run's time goes, ${label} (p50 per step from the event log's clock): ` +
    parts.map((r) => `${r.step.toLowerCase()} waits ${ms(r.wait)} ms in its queue and works ${ms(r.work)} ms`).join('; ') +
    '. The work is the step\'s outside calls (git fetch, reads, apply on a temporary index, commit, push; the emulators\' HTTP) plus its claim and completion.'
  );
}

/** A repository the benchmark runs the chain on: the demo one and the generated large one. */
export interface BenchRepository {
  repository: string;
  /** Its Codex environment label (each repository has its own credential set). */
  environment: string;
}

export interface SpecChains {
  /** One ChainUnderTest per repository, all served by the same service and emulators. */
  chains: ChainUnderTest[];
  close(): Promise<void>;
}

/**
 * The service as `spec-chain start` runs it, in this process: API, feed and step workers on `databaseUrl`.
 * The Codex Cloud and GitHub emulators run in a process of their own (bench/emulators.ts), answering at
 * once (READY on the first poll, no mutation spacing), and the Codex task's diff is a fixed one (it
 * edits src/widgets.js and adds src/greeting.js), the same for every repository, so runs differ only by
 * the repository they apply it to. A run starts with startSpecPhase over HTTP and ends at the push of its
 * SUCCEEDED transition.
 */
export async function startSpecChains(databaseUrl: string, largeRepository: string, repositories: BenchRepository[]): Promise<SpecChains> {
  const dir = await mkdtemp(join(tmpdir(), 'spec-chain-bench-'));
  const emulators = fork(fileURLToPath(new URL('./emulators.js', import.meta.url)), [join(dir, 'emulators'), largeRepository], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [],
  });
  const ready = await new Promise<EmulatorsReady>((resolve, reject) => {
    emulators.once('message', (message: { ready: EmulatorsReady }) => resolve(message.ready));
    emulators.once('exit', (code) => reject(new Error(`the emulators process exited (${code}) before it served`)));
  });
  const dataDir = join(dir, 'service');
  const svc = await startService(
    databaseUrl,
    { DATA_DIR: dataDir, ...ready.environment, CODEX_POLL_INTERVAL_SECONDS: '1', GITHUB_MUTATION_INTERVAL_MS: '0' },
    { supervise: true },
  );
  const working = await startWorking(svc.app);
  const diff = await widgetsChange(join(ready.gitRoot, 'sandbox', 'widgets.git'));
  let scripts = 0;
  /** The next `n` Codex tasks answer with the diff. */
  const script = (n: number) =>
    new Promise<void>((resolve) => {
      const id = ++scripts;
      const onMessage = (message: { type: string; id: number }) => {
        if (message.type !== 'scripted' || message.id !== id) return;
        emulators.off('message', onMessage);
        resolve();
      };
      emulators.on('message', onMessage);
      emulators.send({ type: 'script', id, outcomes: Array.from({ length: n }, () => ({ kind: 'diff', diff, message: 'Implemented the phase.' })) });
    });
  // Runs one after another watch on one socket; runs in flight spread over sockets of 20 subscriptions.
  const socket = wsClient(svc.url);
  const sockets = new SocketPool(svc.url);
  const scratch = join(dataDir, 'git-cache', '.scratch');

  const chains = await Promise.all(
    repositories.map(async ({ repository, environment }): Promise<ChainUnderTest> => {
      const { credentialSet } = await createCredentialSet(
        svc.app.ds,
        { name: `bench-${environment.replace(/\W+/g, '-')}`, codexAuthRef: ready.codexAuthRef, githubTokenRef: ready.githubTokenRef, codexEnvironment: environment, repositories: [repository] },
        { sandbox: true },
      );
      const run = async (client: () => Client, timeoutMs: number, input: Record<string, unknown>): Promise<number> => {
        const started = performance.now();
        const { startSpecPhase } = await gql(svc.url, START, { input: { repository, credentialSetId: credentialSet!.id, ...input } }, TOKENS.operator);
        if (startSpecPhase.userErrors.length) throw new Error(`startSpecPhase refused: ${JSON.stringify(startSpecPhase.userErrors)}`);
        return (await succeeded(client(), startSpecPhase.run.id, timeoutMs)) - started;
      };
      let prepared: { branch: string; features: string[] } | undefined;
      // A published phase waits in review, so a second run of it would end IN_REVIEW at discovery: each
      // run one after another gets a feature of its own (numbered apart from the in-flight ones).
      const singles = { branch: '', features: [] as string[], batches: 0 };
      const [owner, name] = repository.split('/');
      const bare = join(ready.gitRoot, owner!, `${name}.git`);
      return {
        databaseUrl,
        // One run at a time: a run may start only when the one before has ended.
        one: async () => {
          if (!singles.features.length) {
            singles.batches += 1;
            singles.branch = `bench-singles-${singles.batches}`;
            const first = 10_000 * singles.batches;
            singles.features = await addFeatures(bare, { base: 'main', branch: singles.branch, source: SANDBOX_FEATURE, count: SINGLES_BATCH, first });
          }
          await script(1);
          return run(() => socket, RUN_TIMEOUT_MS.alone, { featureId: singles.features.shift()!, baseBranch: singles.branch });
        },
        prepare: async (n) => {
          const branch = `bench-${n}-features`;
          const features = await addFeatures(bare, { base: 'main', branch, source: SANDBOX_FEATURE, count: n });
          await script(n);
          prepared = { branch, features };
        },
        many: async () => {
          const { branch, features } = prepared!;
          const started = performance.now();
          const each = await Promise.all(features.map((featureId) => run(() => sockets.next(), RUN_TIMEOUT_MS.inFlight, { featureId, baseBranch: branch })));
          return { wallMs: performance.now() - started, each };
        },
        notes: async (runs, label) => [await whereTimeGoes(svc.app.ds, repository, runs, label)],
        git: async () => {
          const cpu = await gitCpu();
          return { processes: gitProcessesStarted(), cpuMs: cpu.launcherMs + cpu.gitMs + cpu.readersMs };
        },
        diskInUse: () => diskUse(scratch),
        close: async () => {},
      };
    }),
  );
  return {
    chains,
    close: async () => {
      await Promise.all([socket.dispose(), sockets.close()]);
      await working.stop();
      await svc.close();
      emulators.disconnect();
      await new Promise((resolve) => (emulators.exitCode !== null ? resolve(null) : emulators.once('exit', resolve)));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The Codex task's diff: a function added to src/widgets.js and a new src/greeting.js, made with git against the demo's main. */
async function widgetsChange(bare: string): Promise<string> {
  const { stdout: widgets } = await git(['show', 'main:src/widgets.js'], bare);
  const work = await mkdtemp(join(tmpdir(), 'spec-chain-bench-diff-'));
  try {
    await git(['init', '-q'], work);
    await mkdir(join(work, 'src'));
    await writeFile(join(work, 'src', 'widgets.js'), widgets);
    await git(['add', '-A'], work);
    await git(['commit', '-q', '-m', 'base'], work);
    await writeFile(join(work, 'src', 'widgets.js'), `${widgets}\nexport function countWidgets() {\n  return widgets.length;\n}\n`);
    await writeFile(join(work, 'src', 'greeting.js'), "export function greet(name) {\n  return `Hello, ${name.trim() || 'visitor'}!`;\n}\n");
    await git(['add', '-A'], work);
    return (await git(['diff', '--cached', 'HEAD'], work)).stdout;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Bytes under the scratch folder, and how many step folders it holds. */
async function diskUse(scratch: string): Promise<{ bytes: number; folders: number }> {
  const entries = await readdir(scratch, { withFileTypes: true, recursive: true }).catch(() => []);
  let bytes = 0;
  let folders = 0;
  for (const entry of entries) {
    if (entry.isDirectory() && entry.parentPath === scratch) folders++;
    if (entry.isFile()) bytes += (await stat(join(entry.parentPath, entry.name)).catch(() => ({ size: 0 }))).size;
  }
  return { bytes, folders };
}
