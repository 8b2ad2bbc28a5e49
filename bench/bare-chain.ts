import { randomUUID } from 'node:crypto';
import { loadConfig } from '../src/config.js';
import { createBoss, QUEUE } from '../src/jobs/queues.js';
import { createStepQueues } from '../src/jobs/runner.js';
import { STEP_ORDER } from '../src/interfaces.js';
import type { Logger } from '../src/log.js';
import type { ChainUnderTest } from './chain-figures.js';

/**
 * The worker options of src/jobs/runner.ts's startWorking (which does not export them), at the default
 * WORKER_CONCURRENCY of 4: the baseline must poll, batch and run in parallel exactly like the service.
 */
const WORK_OPTIONS = { batchSize: 2, burstWhenBatchFull: true, localConcurrency: 4, pollingIntervalSeconds: 2, notifyPollingIntervalSeconds: 10 };

const CHAIN_TIMEOUT_MS = 60_000;

/**
 * The floor under the chain: pg-boss 12 built by the service's own createBoss and createQueues (same
 * constructor and queue options: LISTEN/NOTIFY, notify queues, retries, expiry, heartbeats), five queues
 * whose empty handlers each send the next job. A chain ends when the fifth handler is called.
 */
export async function startBareChain(databaseUrl: string, log: Logger): Promise<ChainUnderTest> {
  const boss = createBoss(databaseUrl, log, { supervise: true, monitorSeconds: 10, applicationName: 'bench-bare-chain' });
  await boss.start();
  await createStepQueues(boss, loadConfig({}));
  const ends = new Map<string, () => void>();
  for (const [i, step] of STEP_ORDER.entries()) {
    const next = STEP_ORDER[i + 1];
    await boss.work<{ chainId: string }>(QUEUE[step], WORK_OPTIONS, async (jobs) => {
      await Promise.all(jobs.map(async (job) => (next ? void (await boss.send(QUEUE[next], job.data)) : ends.get(job.data.chainId)?.())));
    });
  }

  const chain = async (): Promise<number> => {
    const chainId = randomUUID();
    const started = performance.now();
    const ended = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bare chain ${chainId} did not end within ${CHAIN_TIMEOUT_MS} ms`)), CHAIN_TIMEOUT_MS);
      ends.set(chainId, () => {
        clearTimeout(timer);
        ends.delete(chainId);
        resolve(performance.now() - started);
      });
    });
    await boss.send(QUEUE[STEP_ORDER[0]!], { chainId });
    return ended;
  };

  return {
    databaseUrl,
    one: chain,
    many: async (n) => {
      const started = performance.now();
      const each = await Promise.all(Array.from({ length: n }, chain));
      return { wallMs: performance.now() - started, each };
    },
    close: () => boss.stop({ graceful: true, timeout: 10_000 }),
  };
}
