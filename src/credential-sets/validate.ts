import type { DataSource } from 'typeorm';
import type { Config } from '../config.js';
import { CredentialSet } from '../entities/index.js';
import type { Logger } from '../log.js';
import { checkCredentials } from '../providers/preflight.js';
import type { TokenCache } from '../providers/github/app-tokens.js';
import { UserErrorCode } from '../interfaces.js';
import { getCredentialSet, type UserErrorData } from './store.js';

/**
 * validateCredentialSet: the preflight every run makes, on demand. Records when it ran and the issues
 * found (each naming the reference to fix), so operators see a broken secret before a run trips on it.
 */
export async function validateCredentialSet(
  ds: DataSource,
  config: Config,
  log: Logger,
  id: string,
  repository: string | null,
  /** Where a GitHub App's installation tokens are shared (the workers' table, when the caller has the database). */
  appTokens?: TokenCache,
): Promise<{ credentialSet: CredentialSet | null; userErrors: UserErrorData[] }> {
  const set = await getCredentialSet(ds, id);
  if (!set) return { credentialSet: null, userErrors: [{ code: UserErrorCode.NOT_FOUND, field: 'id', message: `No credential set ${id}.` }] };
  const issues = await checkCredentials(config, set, { repository, environment: null, codex: true, github: true }, log, undefined, appTokens);
  set.validatedAt = new Date();
  set.validationIssues = issues;
  await ds.getRepository(CredentialSet).update({ id }, { validatedAt: set.validatedAt, validationIssues: issues });
  log.info({ credentialSet: set.name, issues: issues.map((i) => i.code) }, 'credential set validated');
  return { credentialSet: set, userErrors: [] };
}
