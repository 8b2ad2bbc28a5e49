import type pg from 'pg';
import type { DataSource } from 'typeorm';

/** A connection inside a transaction: the chain's bookkeeping is plain SQL on it. */
export type Tx = pg.PoolClient;

/** The pg pool TypeORM already holds, so the chain and the API share one pool per process. */
export function poolOf(ds: DataSource): pg.Pool {
  return (ds.driver as unknown as { master: pg.Pool }).master;
}

export async function inTransaction<T>(db: pg.Pool, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}

/**
 * A transaction PostgreSQL rolled back because it collided with another (a deadlock or a serialization
 * failure, SQLSTATE class 40): the same work done again can succeed.
 */
export function isTransactionConflict(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '40001' || code === '40P01';
}

/** pg-boss's database interface over our transaction: a job sent through it commits or rolls back with us. */
export function bossDb(tx: Tx): { executeSql(text: string, values?: unknown[]): Promise<{ rows: any[] }> } {
  return { executeSql: (text, values) => tx.query(text, values as unknown[]) };
}
