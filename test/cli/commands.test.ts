import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PROJECT_ROOT } from '../../src/server/paths.js';
import { spawnSpecChain } from '../support/cli.js';
import { createTestDatabase } from '../support/database.js';

// Every command and flag the README and `--help` document, run as the installed executable.

const COMMANDS = ['start', 'serve', 'work', 'migrate', 'discover', 'print-schema'];

describe('npx spec-chain', () => {
  test('--help (and -h, help) prints the usage of every command on stdout, exit 0', async () => {
    const runs = await Promise.all([['--help'], ['-h'], ['help']].map((args) => spawnSpecChain(args)));
    for (const { code, stdout, stderr } of runs) {
      expect(code).toBe(0);
      expect(stderr).toBe('');
      expect(stdout).toMatch(/^usage: spec-chain <command> \[options\]/);
      for (const command of COMMANDS) expect(stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
      expect(stdout).toContain('discover <path> [--feature <id>] [--json]');
    }
  });

  test('an unknown command says so on stderr with the usage, exit 2; no command at all too', async () => {
    const [bogus, none] = await Promise.all([spawnSpecChain(['bogus']), spawnSpecChain([])]);
    expect(bogus.code).toBe(2);
    expect(bogus.stdout).toBe('');
    expect(bogus.stderr).toMatch(/^spec-chain: unknown command "bogus"\n/);
    expect(bogus.stderr).toContain('usage: spec-chain <command>');
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^spec-chain: name a command\n/);
  });

  test('<command> --help prints that command alone, exit 0, and starts nothing', async () => {
    const runs = await Promise.all(['start', 'serve', 'work', 'migrate', 'print-schema'].map((c) => spawnSpecChain([c, '--help'])));
    for (const [i, { code, stdout }] of runs.entries()) {
      expect(code).toBe(0);
      expect(stdout.split('\n')[0]).toBe(`usage: spec-chain ${['start', 'serve', 'work', 'migrate', 'print-schema'][i]}`);
    }
  });

  test('print-schema prints the SDL that schema.graphql holds, exit 0', async () => {
    const { code, stdout } = await spawnSpecChain(['print-schema']);
    expect(code).toBe(0);
    expect(stdout).toBe(readFileSync(join(PROJECT_ROOT, 'schema.graphql'), 'utf8'));
  });

  test('serve, work and migrate without DATABASE_URL stop with a configuration error naming it, exit 2', async () => {
    const runs = await Promise.all(['serve', 'work', 'migrate'].map((c) => spawnSpecChain([c], { env: { DATABASE_URL: undefined } })));
    for (const { code, stderr } of runs) {
      expect(code).toBe(2);
      expect(stderr).toContain('spec-chain: configuration error: DATABASE_URL is not set');
    }
  });

  test('a malformed variable stops start-up naming the variable, exit 2', async () => {
    const { code, stderr } = await spawnSpecChain(['migrate'], { env: { DATABASE_URL: 'postgres://x@127.0.0.1/x', PORT: 'eighty' } });
    expect(code).toBe(2);
    expect(stderr).toContain('PORT: "eighty" is not a whole number.');
  });

  describe('migrate', () => {
    let db: Awaited<ReturnType<typeof createTestDatabase>>;
    beforeAll(async () => {
      db = await createTestDatabase();
    });
    afterAll(async () => {
      await db.drop();
    });

    test('creates the tables and the queues, exit 0; a second run has nothing to do', async () => {
      const first = await spawnSpecChain(['migrate'], { env: { DATABASE_URL: db.url, LOG_LEVEL: 'info' } });
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toContain('"msg":"migration applied"');
      expect(first.stdout).toContain('"msg":"database is up to date"');
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ table_name: string }>(
          "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
        );
        expect(rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(['credential_set', 'run_event', 'spec_workflow_run', 'step_attempt', 'workflow_artifact']));
        const queues = await client.query<{ name: string }>('SELECT name FROM pgboss.queue ORDER BY name');
        expect(queues.rows.map((r) => r.name)).toEqual(expect.arrayContaining(['spec-chain-discover', 'spec-chain-finalize']));
      } finally {
        await client.end();
      }
      const again = await spawnSpecChain(['migrate'], { env: { DATABASE_URL: db.url, LOG_LEVEL: 'info' } });
      expect(again.code).toBe(0);
      expect(again.stdout).not.toContain('"msg":"migration applied"');
      expect(again.stdout).toContain('"msg":"database is up to date"');
    });
  });
});
