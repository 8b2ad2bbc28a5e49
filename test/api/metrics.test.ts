import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { freePort } from '../../src/db/embedded.js';
import { QUEUE } from '../../src/jobs/queues.js';
import { spawnSpecChain } from '../support/cli.js';
import { exited, spawnCli } from '../support/processes.js';
import { TOKENS } from '../support/service.js';
import { startWorld, type World } from '../support/world.js';

const METRICS_TOKEN = 'metrics-scrape-token-0123456789';
const STEPS = ['DISCOVER', 'SUBMIT', 'APPLY', 'PUBLISH', 'FINALIZE'];

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments skipped). */
function parse(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!m) throw new Error(`not a sample line: ${line}`);
      const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]));
      return { name: m[1]!, labels, value: Number(m[3]) };
    });
}

const only = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = only(samples, name, labels);
  if (found.length !== 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0]!.value;
}

async function scrape(url: string, token: string | null = TOKENS.viewer): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(`${url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

let world: World;
let other: ReturnType<typeof spawnCli>;
let worker: ReturnType<typeof spawnCli>;
let otherUrl: string;
let runs: any[];

beforeAll(async () => {
  world = await startWorld({ env: { METRICS_TOKEN } });
  const port = await freePort();
  const env = { ...world.env, DATABASE_URL: world.databaseUrl, METRICS_TOKEN };
  // A second serve process and a second work process on the same database, as another machine would run.
  other = spawnCli('serve', { ...env, PORT: String(port) });
  worker = spawnCli('work', env);
  otherUrl = `http://127.0.0.1:${port}`;
  for (let i = 0; !(await fetch(`${otherUrl}/readyz`).then((r) => r.ok, () => false)); i++) {
    if (i > 300) throw new Error(`serve on ${port} did not become ready: ${other.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  // Three runs: two succeed (one Codex look pending first), one fails NO_DIFF.
  world.sandbox.codex.script({ kind: 'implement', pendingPolls: 1 }, { kind: 'implement' }, { kind: 'no-diff', message: 'nothing to change' });
  const started = [];
  for (let i = 0; i < 3; i++) started.push((await world.start({ featureId: await world.freshFeature() })).run);
  runs = await Promise.all(started.map((r) => world.waitFor(r.id)));
}, 180_000);

afterAll(async () => {
  for (const p of [other, worker]) {
    if (!p) continue;
    p.kill('SIGTERM');
    await exited(p);
  }
  await world?.close();
});

describe('/metrics', () => {
  test('without a token, or with a wrong one, it is 401; METRICS_TOKEN opens /metrics and nothing else', async () => {
    expect((await scrape(world.svc.url, null)).status).toBe(401);
    expect((await scrape(world.svc.url, 'not-a-known-token-0123456789')).status).toBe(401);
    expect((await scrape(otherUrl, null)).status).toBe(401);
    const viewer = await scrape(world.svc.url, TOKENS.viewer);
    expect(viewer.status).toBe(200);
    expect(viewer.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect((await scrape(otherUrl, METRICS_TOKEN)).status).toBe(200);
    const graphql = await fetch(`${world.svc.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${METRICS_TOKEN}` },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(graphql.status).toBe(401);
  });

  test('a METRICS_TOKEN shorter than 16 characters stops `npx spec-chain serve` naming the variable, exit 2', async () => {
    const { code, stderr } = await spawnSpecChain(['serve'], { env: { DATABASE_URL: world.databaseUrl, METRICS_TOKEN: 'tiny-q7x' } });
    expect(code).toBe(2);
    expect(stderr).toContain('METRICS_TOKEN: is shorter than 16 characters.');
    expect(stderr).not.toContain('tiny-q7x');
  });

  test('each named metric is there, with labels that match the runs', async () => {
    expect(runs.map((r) => r.status).sort()).toEqual(['FAILED', 'SUCCEEDED', 'SUCCEEDED']);
    const s = parse((await scrape(world.svc.url)).text);

    expect(value(s, 'spec_chain_runs_total', { status: 'QUEUED' })).toBe(3);
    expect(value(s, 'spec_chain_runs_total', { status: 'RUNNING' })).toBe(3);
    expect(value(s, 'spec_chain_runs_total', { status: 'SUCCEEDED' })).toBe(2);
    expect(value(s, 'spec_chain_runs_total', { status: 'FAILED' })).toBe(1);
    expect(only(s, 'spec_chain_failures_total')).toEqual([{ name: 'spec_chain_failures_total', labels: { code: 'NO_DIFF' }, value: 1 }]);

    // Every look at a run's Codex task, counted at the emulator.
    const looks = world.sandbox.codex
      .requests()
      .filter((q) => q.method === 'GET' && runs.some((r) => q.path.endsWith(`/wham/tasks/${r.outputs.codexTaskId}`))).length;
    expect(looks).toBeGreaterThanOrEqual(4);
    expect(value(s, 'spec_chain_codex_polls_total')).toBe(looks);

    // Finished attempts by step and final state, as the runs report them.
    const expected = new Map<string, number>();
    for (const run of runs) for (const a of run.steps) if (a.startedAt) expected.set(`${a.step} ${a.state}`, (expected.get(`${a.step} ${a.state}`) ?? 0) + 1);
    const counted = new Map(only(s, 'spec_chain_step_duration_seconds_count').map((c) => [`${c.labels.step} ${c.labels.outcome}`, c.value]));
    expect(counted).toEqual(expected);
    expect(counted.get('APPLY FAILED')).toBe(1);
    for (const c of only(s, 'spec_chain_step_duration_seconds_count')) {
      const buckets = only(s, 'spec_chain_step_duration_seconds_bucket', { step: c.labels.step!, outcome: c.labels.outcome! });
      // Cumulative, ending at +Inf with the count; a sum that is a duration.
      expect(buckets.map((b) => b.value)).toEqual([...buckets.map((b) => b.value)].sort((a, b) => a - b));
      expect(buckets.at(-1)).toMatchObject({ labels: { le: '+Inf' }, value: c.value });
      const sum = value(s, 'spec_chain_step_duration_seconds_sum', c.labels);
      expect(sum).toBeGreaterThan(0);
      expect(sum).toBeLessThan(180 * c.value);
    }

    // Queue waits: one per attempt a worker picked up, by step.
    for (const step of STEPS) {
      const started = runs.flatMap((r) => r.steps).filter((a: any) => a.step === step && a.startedAt).length;
      expect(value(s, 'spec_chain_queue_wait_seconds_count', { step }), step).toBe(started);
      expect(value(s, 'spec_chain_queue_wait_seconds_bucket', { step, le: '+Inf' })).toBe(started);
      // Every run is over: nothing waits in any step queue.
      expect(value(s, 'spec_chain_queue_depth', { step })).toBe(0);
    }

    expect(value(s, 'spec_chain_feed_subscribers')).toBe(0);
    // Event-loop delay and the process defaults.
    expect(value(s, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(value(s, 'nodejs_eventloop_lag_p99_seconds')).toBeGreaterThan(0);
    expect(value(s, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(value(s, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  test('queue depth counts step jobs not yet picked up, by step', async () => {
    const before = parse((await scrape(world.svc.url)).text);
    // A job due in an hour: queued in PUBLISH's queue, and no worker fetches it meanwhile.
    const id = await world.svc.app.boss.send(QUEUE.PUBLISH, { runId: '00000000-0000-0000-0000-000000000000', step: 'PUBLISH', attempt: 1 }, { startAfter: 3600 });
    try {
      const after = parse((await scrape(world.svc.url)).text);
      expect(value(before, 'spec_chain_queue_depth', { step: 'PUBLISH' })).toBe(0);
      expect(value(after, 'spec_chain_queue_depth', { step: 'PUBLISH' })).toBe(1);
      expect(value(after, 'spec_chain_queue_depth', { step: 'APPLY' })).toBe(0);
    } finally {
      await world.svc.app.boss.deleteJob(QUEUE.PUBLISH, id!);
    }
  });

  test('two serve processes report the same totals: a second process\'s runs are counted once; subscribers stay per process', async () => {
    // Two dashboard subscriptions held by the other process only.
    const client = createClient({ url: `${otherUrl.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${TOKENS.viewer}` } });
    const ends: (() => void)[] = [];
    for (let i = 0; i < 2; i++) ends.push(client.subscribe({ query: 'subscription { runsUpdated { id } }' }, { next: () => {}, error: () => {}, complete: () => {} }));
    try {
      let theirs: Sample[] = [];
      for (let i = 0; i < 100; i++) {
        theirs = parse((await scrape(otherUrl, METRICS_TOKEN)).text);
        if (value(theirs, 'spec_chain_feed_subscribers') === 2) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const ours = parse((await scrape(world.svc.url)).text);
      expect(value(theirs, 'spec_chain_feed_subscribers')).toBe(2);
      expect(value(ours, 'spec_chain_feed_subscribers')).toBe(0);

      const shared = (samples: Sample[]) =>
        samples.filter((x) => x.name.startsWith('spec_chain_') && x.name !== 'spec_chain_feed_subscribers').map((x) => `${x.name}${JSON.stringify(x.labels)} ${x.value}`);
      expect(shared(theirs).length).toBeGreaterThan(50);
      expect(shared(theirs)).toEqual(shared(ours));
      expect(value(theirs, 'spec_chain_runs_total', { status: 'SUCCEEDED' })).toBe(2);
    } finally {
      for (const end of ends) end();
      await client.dispose();
    }
  });
});
