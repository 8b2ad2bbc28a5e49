import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * The admin token a `serve` process uses when no API_TOKENS are configured: generated once and kept in
 * DATA_DIR/admin-token (mode 0600), so it survives restarts and the pages a user left open keep working.
 * Deleting the file revokes it (at the next start, or at once on SIGHUP); a new one is made then.
 */
export function localTokenPath(dataDir: string): string {
  return join(dataDir, 'admin-token');
}

/** The kept token, or null when the file is missing or empty. */
export async function readLocalToken(path: string): Promise<string | null> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const token = text.trim();
  return token === '' ? null : token;
}

/** The kept token, created when there is none. Two processes starting at once agree on one. */
export async function ensureLocalToken(path: string): Promise<{ token: string; created: boolean }> {
  const existing = await readLocalToken(path);
  if (existing) return { token: existing, created: false };
  await mkdir(dirname(path), { recursive: true });
  const token = `sc_${randomBytes(24).toString('base64url')}`;
  try {
    // `wx`: only the first writer wins; a process that loses the race reads the winner's token.
    await writeFile(path, `${token}\n`, { mode: 0o600, flag: 'wx' });
    return { token, created: true };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const winner = await readLocalToken(path);
    if (winner) return { token: winner, created: false };
    // An empty file left by someone else: replace it.
    await rm(path, { force: true });
    return ensureLocalToken(path);
  }
}
