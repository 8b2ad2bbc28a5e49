import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inTransaction } from '../src/db/transaction.js';
import { ArtifactKind, Step } from '../src/interfaces.js';
import { ArtifactStore } from '../src/runs/artifacts.js';
import { recordArtifacts } from '../src/runs/db/artifacts.js';
import { freshDatabase, type BenchServer } from './database.js';
import { benchRun, startService, TOKENS } from './service.js';
import { ms, percentile, ratio } from './stats.js';

const SIZE = 5 * 1024 * 1024;
const DOWNLOADS = 30;

/** Downloads `url` `times` times one after another; each time's duration. */
async function timeDownloads(url: string, times: number, headers: Record<string, string> = {}): Promise<number[]> {
  const durations: number[] = [];
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    const response = await fetch(url, { headers });
    const body = Buffer.from(await response.arrayBuffer());
    if (response.status !== 200 || body.length !== SIZE) throw new Error(`download answered ${response.status} with ${body.length} bytes`);
    durations.push(performance.now() - started);
  }
  return durations;
}

/**
 * Artifact download: a 5 MB patch streamed out of PostgreSQL by `/artifacts` (auth, row, chunk by chunk),
 * beside the same bytes served from memory by a bare Node HTTP server in the same process (the ceiling
 * of any store), measured in the same run.
 */
export async function benchArtifacts(server: BenchServer): Promise<string> {
  const db = await freshDatabase(server, 'artifacts');
  const baseline = createServer((_req, res) => res.writeHead(200, { 'content-length': SIZE }).end(content));
  const content = randomBytes(SIZE);
  try {
    const svc = await startService(db.url, {}, { supervise: false });
    try {
      const runId = await benchRun(svc, 'bench/artifacts');
      const store = new ArtifactStore(svc.app.db, svc.app.config.artifactMaxBytes);
      const writeStarted = performance.now();
      await inTransaction(svc.app.db, (tx) => recordArtifacts(tx, runId, Step.APPLY, 1, [store.write(runId, 'patch.diff', ArtifactKind.PATCH, content, 'text/x-diff')]));
      const writeMs = performance.now() - writeStarted;
      const { rows } = await svc.app.db.query<{ id: string }>(`SELECT id FROM workflow_artifact WHERE run_id = $1`, [runId]);
      const url = `${svc.url}/artifacts/${runId}/${rows[0]!.id}`;

      await new Promise<void>((resolve) => baseline.listen(0, '127.0.0.1', resolve));
      const baseUrl = `http://127.0.0.1:${(baseline.address() as AddressInfo).port}/`;
      await timeDownloads(url, 3, { authorization: `Bearer ${TOKENS.viewer}` });
      await timeDownloads(baseUrl, 3);
      const stored = await timeDownloads(url, DOWNLOADS, { authorization: `Bearer ${TOKENS.viewer}` });
      const memory = await timeDownloads(baseUrl, DOWNLOADS);
      const mbps = (durations: number[]) => (SIZE / 2 ** 20 / (percentile(durations, 50) / 1000)).toFixed(0);
      return [
        '## Artifact download (5 MiB patch)',
        '',
        `Stored once in PostgreSQL in ${ms(writeMs)} ms (${Math.ceil(SIZE / (256 * 1024))} chunks in one transaction); downloaded ${DOWNLOADS} times one after another.`,
        '',
        '| source | p50 (ms) | p95 (ms) | MiB/s (p50) |',
        '| --- | --- | --- | --- |',
        `| \`/artifacts\` streamed from PostgreSQL | ${ms(percentile(stored, 50))} | ${ms(percentile(stored, 95))} | ${mbps(stored)} |`,
        `| same bytes from memory, bare Node HTTP (baseline) | ${ms(percentile(memory, 50))} | ${ms(percentile(memory, 95))} | ${mbps(memory)} |`,
        '',
        `Download time against the in-memory baseline: ${ratio(percentile(stored, 50), percentile(memory, 50))} (p50).`,
        '',
      ].join('\n');
    } finally {
      await svc.close();
    }
  } finally {
    baseline.close();
    await db.drop();
  }
}
