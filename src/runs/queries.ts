import { isUuid } from '../interfaces.js';
import type { Db } from './db/columns.js';
import { pageOfRuns, readRun, readRuns, type Run, type RunFilter } from './db/runs.js';

// What the API reads of runs: one run, and pages of runs with opaque cursors.

export type { RunFilter };

/** Cursors are opaque to clients: the (created_at, id) key of a row, newest first. */
export function encodeCursor(run: Pick<Run, 'createdAt' | 'id'>): string {
  return Buffer.from(`${run.createdAt.toISOString()}|${run.id}`).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: Date; id: string } | null {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (!id || Number.isNaN(createdAt.getTime()) || !isUuid(id)) return null;
  return { createdAt, id };
}

/** A run by id; null for an unknown id or one that is not a UUID at all. */
export function getRun(db: Db, id: string): Promise<Run | null> {
  return isUuid(id) ? readRun(db, id) : Promise.resolve(null);
}

export async function listRuns(
  db: Db,
  args: { first: number; after?: { createdAt: Date; id: string } | null; filter?: RunFilter | null },
): Promise<{ runs: Run[]; totalCount: number; hasNextPage: boolean }> {
  const page = await pageOfRuns(db, args);
  return { runs: await readRuns(db, page.ids), totalCount: page.totalCount, hasNextPage: page.hasNextPage };
}
