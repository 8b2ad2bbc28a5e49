import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { createLogger } from '../../src/log.js';

declare module 'vitest' {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
  }
}

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1500 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Picks the PostgreSQL server the tests use: TEST_DATABASE_URL when set, else the machine's server on
 * 127.0.0.1:5432 if it answers, else (or with TEST_EMBEDDED_POSTGRES=1) an embedded one started here. Each test file then creates its
 * own database on it (test/support/database.ts).
 */
export default async function setup(project: TestProject) {
  const local = 'postgres://postgres@127.0.0.1:5432/postgres';
  let stop = async () => {};
  // TEST_EMBEDDED_POSTGRES=1 proves the suite needs no PostgreSQL on the machine.
  const forceEmbedded = process.env.TEST_EMBEDDED_POSTGRES === '1';
  let url = forceEmbedded ? undefined : process.env.TEST_DATABASE_URL;
  if (!url && !forceEmbedded && (await answers(local))) url = local;
  if (!url) {
    const db = await startEmbeddedPostgres({
      dir: join(process.cwd(), '.data', `test-postgres-${process.pid}`),
      log: createLogger('warn'),
      persistent: false,
    });
    url = db.adminUrl;
    stop = db.stop;
    process.stdout.write(`tests use an embedded PostgreSQL (${url.replace(/:[^:@/]+@/, ':***@')})\n`);
  }
  project.provide('adminDatabaseUrl', url);
  return stop;
}
