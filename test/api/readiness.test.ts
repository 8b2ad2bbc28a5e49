import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.js';
import { createLogger } from '../../src/log.js';
import { startService, type TestService } from '../support/service.js';

// This test stops its database, so it starts one of its own.
let db: EmbeddedDatabase | undefined;
let svc: TestService | undefined;
afterAll(async () => {
  await svc?.close().catch(() => {});
  await db?.stop();
});

test('/readyz turns 503 and names the database when PostgreSQL goes away; /healthz stays up', async () => {
  db = await startEmbeddedPostgres({ dir: join(process.cwd(), '.data', `readyz-${process.pid}`), log: createLogger('silent'), persistent: false });
  svc = await startService(db.url);
  expect((await fetch(`${svc.url}/readyz`)).status).toBe(200);

  await db.stop();
  const res = await fetch(`${svc.url}/readyz`);
  const body = (await res.json()) as { status: string; checks: Record<string, string> };
  expect(res.status).toBe(503);
  expect(body.status).toBe('not ready');
  expect(body.checks.database).not.toBe('ok');
  expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);
});
