import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { inTransaction } from '../../db/transaction.js';
import type { InstallationToken } from './app.js';

/**
 * Where installation tokens are kept between uses. `get` answers a token with more than `marginMs` left,
 * minting one with `mint` when there is none: once, however many callers ask at the same time.
 */
export interface TokenCache {
  get(key: string, privateKey: string, marginMs: number, mint: () => Promise<InstallationToken>): Promise<InstallationToken>;
  /** Drops `token` if it is the one kept (GitHub refused it). */
  forget(key: string, privateKey: string, token: string): Promise<void>;
}

const fresh = (t: InstallationToken | null | undefined, marginMs: number): t is InstallationToken =>
  !!t && t.expiresAt.getTime() - Date.now() > marginMs;

/** One mint at a time per key in this process: callers that arrive while one is under way wait for it. */
function singleFlight<T>(): (key: string, fn: () => Promise<T>) => Promise<T> {
  const flights = new Map<string, Promise<T>>();
  return (key, fn) => {
    let flight = flights.get(key);
    if (!flight) {
      flight = fn().finally(() => flights.delete(key));
      flights.set(key, flight);
    }
    return flight;
  };
}

/** Tokens kept in memory by one cache of this process (a lone client, preflight without a database). */
export function createTokenCache(): TokenCache {
  const processTokens = new Map<string, InstallationToken>();
  const once = singleFlight<InstallationToken>();
  return {
    get: async (key, _privateKey, marginMs, mint) => {
      const held = processTokens.get(key);
      if (fresh(held, marginMs)) return held;
      return once(key, async () => {
        const minted = await mint();
        processTokens.set(key, minted);
        return minted;
      });
    },
    forget: async (key, _privateKey, token) => {
      if (processTokens.get(key)?.token === token) processTokens.delete(key);
    },
  };
}

/** The cache of this process, for callers that are given none. */
export const processTokenCache: TokenCache = createTokenCache();

/**
 * Tokens every worker shares, in the table github_app_token: a worker that finds none fresh takes a
 * transaction-level advisory lock on the key, looks again (another worker may just have minted one) and
 * only then mints, so however many steps and processes need a token at once, GitHub is asked once.
 * The row holds the token sealed (AES-256-GCM) with a key derived from the App's private key, which the
 * database never sees: the row is useless to anyone who could not mint a token anyway.
 */
export function pgTokenCache(db: pg.Pool): TokenCache {
  // One per pool, so the steps a process runs at once share its single flight too.
  let cache = pgCaches.get(db);
  if (!cache) pgCaches.set(db, (cache = pgTokenCacheOf(db)));
  return cache;
}

const pgCaches = new WeakMap<pg.Pool, TokenCache>();

function pgTokenCacheOf(db: pg.Pool): TokenCache {
  const once = singleFlight<InstallationToken>();
  const read = async (client: pg.Pool | pg.PoolClient, id: string, privateKey: string): Promise<InstallationToken | null> => {
    const { rows } = await client.query<{ sealed: string; expires_at: Date }>('SELECT sealed, expires_at FROM github_app_token WHERE key = $1', [id]);
    const row = rows[0];
    const token = row ? unseal(row.sealed, privateKey, id) : null;
    return token === null ? null : { token, expiresAt: row!.expires_at };
  };
  return {
    get: async (key, privateKey, marginMs, mint) => {
      const id = rowKey(key);
      const held = await read(db, id, privateKey);
      if (fresh(held, marginMs)) return held;
      return once(key, () =>
        inTransaction(db, async (tx) => {
          await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 17))', [id]);
          const again = await read(tx, id, privateKey);
          if (fresh(again, marginMs)) return again;
          const minted = await mint();
          await tx.query(
            `INSERT INTO github_app_token (key, sealed, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (key) DO UPDATE SET sealed = EXCLUDED.sealed, expires_at = EXCLUDED.expires_at, minted_at = now()`,
            [id, seal(minted.token, privateKey, id), minted.expiresAt],
          );
          return minted;
        }),
      );
    },
    forget: async (key, privateKey, token) => {
      // Deleted only while it still holds the refused token, not one another worker minted since.
      const id = rowKey(key);
      const { rows } = await db.query<{ sealed: string }>('SELECT sealed FROM github_app_token WHERE key = $1', [id]);
      if (rows[0] && unseal(rows[0].sealed, privateKey, id) === token) {
        await db.query('DELETE FROM github_app_token WHERE key = $1 AND sealed = $2', [id, rows[0].sealed]);
      }
    },
  };
}

const rowKey = (key: string) => createHash('sha256').update(key).digest('hex');
const sealKey = (privateKey: string) => createHash('sha256').update('spec-chain github_app_token\0').update(privateKey.trim()).digest();

function seal(token: string, privateKey: string, id: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', sealKey(privateKey), iv);
  cipher.setAAD(Buffer.from(id));
  const body = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

/** The token, or null when the row was sealed with another key (the App's key was replaced). */
function unseal(sealed: string, privateKey: string, id: string): string | null {
  try {
    const raw = Buffer.from(sealed, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', sealKey(privateKey), raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(id));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}

