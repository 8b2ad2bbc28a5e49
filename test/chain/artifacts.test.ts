import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CHUNK_BYTES } from '../../src/runs/db/artifacts.js';
import { spawnSpecChain } from '../support/cli.js';
import { TOKENS } from '../support/service.js';
import { startWorld, type World } from '../support/world.js';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** A diff that adds one file of `lines` lines (about 80 bytes each). */
function newFileDiff(path: string, lines: number): string {
  const body = Array.from({ length: lines }, (_, i) => `+line ${String(i).padStart(8, '0')} of a generated file that makes this patch large enough\n`).join('');
  return `diff --git a/${path} b/${path}\nnew file mode 100644\n--- /dev/null\n+++ b/${path}\n@@ -0,0 +1,${lines} @@\n${body}`;
}

async function download(world: World, url: string): Promise<{ status: number; body: Buffer; headers: Headers }> {
  const response = await fetch(`${world.svc.url}${url}`, { headers: { authorization: `Bearer ${TOKENS.viewer}` } });
  return { status: response.status, body: Buffer.from(await response.arrayBuffer()), headers: response.headers };
}

describe('artifacts in PostgreSQL', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(async () => world?.close());

  test('a 5 MB patch is stored in chunks with the run, published, and downloads whole with its sha256; no artifact folder exists', async () => {
    const diff = newFileDiff('src/generated.txt', 75_000);
    expect(diff.length).toBeGreaterThan(5_000_000);
    world.sandbox.codex.script({ kind: 'diff', diff });
    const { run: started } = await world.start({ featureId: await world.freshFeature() });
    const run = await world.waitFor(started.id, undefined, 120_000);
    expect(run.status).toBe('SUCCEEDED');
    const patch = run.artifacts.find((a: any) => a.kind === 'PATCH');
    expect(patch).toMatchObject({ size: Buffer.byteLength(diff), sha256: sha256(diff) });

    const got = await download(world, patch.url);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-length')).toBe(String(Buffer.byteLength(diff)));
    expect(sha256(got.body)).toBe(patch.sha256);
    const { rows } = await world.svc.app.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM artifact_chunk c JOIN workflow_artifact w ON w.id = c.artifact_id WHERE w.run_id = $1 AND w.kind = 'PATCH'`,
      [run.id],
    );
    expect(rows[0]!.n).toBe(Math.ceil(Buffer.byteLength(diff) / CHUNK_BYTES));
    expect(existsSync(join(world.dir, 'artifacts'))).toBe(false);
  }, 180_000);

  test('the Codex log gains one chunk per look and keeps what it had: the download is every line in order', async () => {
    world.sandbox.codex.script({ kind: 'implement', pendingPolls: 3 });
    const { run: started } = await world.start({ featureId: await world.freshFeature() });
    // Read the log's chunks while the task is still pending, then again at the end.
    const chunksOf = async () =>
      (
        await world.svc.app.db.query<{ seq: number; data: Buffer }>(
          `SELECT c.seq, c.data FROM artifact_chunk c JOIN workflow_artifact w ON w.id = c.artifact_id WHERE w.run_id = $1 AND w.kind = 'CODEX_LOG' ORDER BY c.seq`,
          [started.id],
        )
      ).rows;
    await world.waitFor(started.id, (r) => r.steps.some((s: any) => s.step === 'APPLY' && s.state === 'WAITING'));
    const early = await chunksOf();
    const run = await world.waitFor(started.id);
    expect(run.status).toBe('SUCCEEDED');
    const late = await chunksOf();
    expect(early.length).toBeGreaterThanOrEqual(2);
    expect(late.slice(0, early.length)).toEqual(early);
    const apply = run.steps.find((s: any) => s.step === 'APPLY');
    expect(late.length).toBe(1 + apply.tries);
    const log = run.artifacts.find((a: any) => a.kind === 'CODEX_LOG');
    const got = await download(world, log.url);
    expect(got.body).toEqual(Buffer.concat(late.map((c) => c.data)));
    expect(sha256(got.body)).toBe(log.sha256);
    expect(got.body.length).toBe(log.size);
    for (const line of got.body.toString('utf8').trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
  }, 120_000);

  test('files of an older version\'s artifact folder move into PostgreSQL on migrate; a recorded artifact whose file is gone says so', async () => {
    const { run: started } = await world.start({ featureId: await world.freshFeature() });
    const run = await world.waitFor(started.id);
    const folder = join(world.dir, 'old-artifacts');
    await mkdir(join(folder, run.id), { recursive: true });
    await writeFile(join(folder, run.id, 'notes.txt'), 'kept by an older version\n');
    const ids = [randomUUID(), randomUUID()];
    for (const [i, name] of ['notes.txt', 'gone.txt'].entries()) {
      await world.svc.app.db.query(
        `INSERT INTO workflow_artifact (id, run_id, step, attempt, kind, location, content_type) VALUES ($1, $2, 'FINALIZE', 1, 'SUMMARY', $3, 'text/plain')`,
        [ids[i], run.id, `${run.id}/${name}`],
      );
    }
    const migrated = await spawnSpecChain(['migrate'], { env: { DATABASE_URL: world.databaseUrl, ARTIFACT_DIR: folder, LOG_LEVEL: 'info' } });
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(migrated.stdout + migrated.stderr).toMatch(/moved 1 artifact file\(s\) from .*old-artifacts into PostgreSQL; 1 recorded artifact\(s\) had no file there/);

    const imported = await download(world, `/artifacts/${run.id}/${ids[0]}`);
    expect(imported.status).toBe(200);
    expect(imported.body.toString()).toBe('kept by an older version\n');
    const gone = await download(world, `/artifacts/${run.id}/${ids[1]}`);
    expect(gone.status).toBe(410);
    expect(JSON.parse(gone.body.toString()).errors[0]).toMatchObject({ message: expect.stringMatching(/older version/), extensions: { code: 'GONE' } });
    const shown = (await world.run(run.id)).artifacts.find((a: any) => a.url.endsWith(ids[0]!));
    expect(shown).toMatchObject({ size: 25, sha256: sha256('kept by an older version\n') });
  }, 120_000);
});

describe('ARTIFACT_MAX_BYTES', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({ env: { ARTIFACT_MAX_BYTES: String(64 * 1024) } });
  });
  afterAll(async () => world?.close());

  test('a patch over the limit fails the run with ARTIFACT_TOO_LARGE, naming the size, and nothing of it is stored', async () => {
    world.sandbox.codex.script({ kind: 'diff', diff: newFileDiff('src/too-big.txt', 2_000) });
    const { run: started } = await world.start({ featureId: await world.freshFeature() });
    const run = await world.waitFor(started.id, undefined, 120_000);
    expect(run.status).toBe('FAILED');
    expect(run.failure).toMatchObject({ code: 'ARTIFACT_TOO_LARGE', step: 'APPLY' });
    expect(run.failure.message).toMatch(/patch\.diff is \d+ bytes, over the 65536-byte limit \(ARTIFACT_MAX_BYTES\)/);
    expect(run.failure.retryModes).toContain('RESUME');
    expect(run.artifacts.map((a: any) => a.kind)).not.toContain('PATCH');
    const { rows } = await world.svc.app.db.query(`SELECT 1 FROM workflow_artifact WHERE run_id = $1 AND kind = 'PATCH'`, [run.id]);
    expect(rows).toEqual([]);
  }, 120_000);
});
