import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, expect, test } from 'vitest';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { createLogger } from '../../src/log.js';

const dir = join(process.cwd(), '.data', `embedded-test-${process.pid}`);
afterAll(() => rm(dir, { recursive: true, force: true }));

async function query(url: string, sql: string): Promise<any[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

test('the embedded PostgreSQL keeps its data from one start to the next, as root too', async () => {
  const log = createLogger('silent');
  const first = await startEmbeddedPostgres({ dir, log });
  await query(first.url, 'CREATE TABLE kept (v text); INSERT INTO kept VALUES ($$still here$$)');
  await first.stop();

  const second = await startEmbeddedPostgres({ dir, log });
  try {
    expect(await query(second.url, 'SELECT v FROM kept')).toEqual([{ v: 'still here' }]);
    // Listening on loopback only.
    expect(new URL(second.url).hostname).toBe('127.0.0.1');
  } finally {
    await second.stop();
  }
}, 120_000);
