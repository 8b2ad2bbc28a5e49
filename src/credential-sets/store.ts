import type { DataSource } from 'typeorm';
import { CredentialSet } from '../entities/index.js';
import { CommitVia, isUuid, MAX_LENGTH, tooLong, UserErrorCode, type UserErrorData } from '../interfaces.js';
import { isSecretRef } from '../providers/secrets.js';

export type { UserErrorData };

export interface CredentialSetFields {
  name?: string | null;
  codexAuthRef?: string | null;
  githubTokenRef?: string | null;
  githubAppId?: string | null;
  githubAppInstallationId?: string | null;
  githubAppPrivateKeyRef?: string | null;
  commitVia?: CommitVia | null;
  commitFallbackToGit?: boolean | null;
  codexEnvironment?: string | null;
  repositories?: string[] | null;
  maxConcurrentCodexTasks?: number | null;
}

/** GitHub's owner/name: the name may hold dots, but `.` and `..` name no repository (and mean paths to git). */
export const REPOSITORY = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/(?!\.\.?$)[A-Za-z0-9._-]{1,100}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** Checks the fields that are present; `required` lists those a create must have. */
function check(fields: CredentialSetFields, required: (keyof CredentialSetFields)[]): UserErrorData[] {
  const errors: UserErrorData[] = [];
  for (const key of required) {
    if (fields[key] === undefined || fields[key] === null) errors.push({ code: UserErrorCode.REQUIRED, field: key, message: `${key} is required.` });
  }
  if (fields.name != null && !NAME.test(fields.name)) {
    errors.push({ code: UserErrorCode.INVALID_NAME, field: 'name', message: 'name must be 1-100 letters, digits, dots, dashes or underscores.' });
  }
  for (const key of ['codexAuthRef', 'githubTokenRef', 'githubAppPrivateKeyRef'] as const) {
    const ref = fields[key];
    const long = tooLong(key, ref, MAX_LENGTH.secretRef);
    if (long) errors.push(long);
    else if (ref != null && !isSecretRef(ref)) {
      errors.push({
        code: UserErrorCode.INVALID_SECRET_REF,
        field: key,
        message: `${key} must be a reference (env:NAME or file:/absolute/path), never the secret itself.`,
      });
    }
  }
  for (const key of ['githubAppId', 'githubAppInstallationId'] as const) {
    const id = fields[key];
    if (id != null && !/^[1-9][0-9]{0,19}$/.test(id)) {
      errors.push({ code: UserErrorCode.INVALID_APP, field: key, message: `${key} must be the number GitHub shows for it.` });
    }
  }
  const max = fields.maxConcurrentCodexTasks;
  if (max != null && (!Number.isInteger(max) || max < 1 || max > 1000)) {
    errors.push({ code: UserErrorCode.INVALID_LIMIT, field: 'maxConcurrentCodexTasks', message: 'maxConcurrentCodexTasks must be a whole number from 1 to 1000.' });
  }
  const environment = tooLong('codexEnvironment', fields.codexEnvironment, MAX_LENGTH.codexEnvironment);
  if (environment) errors.push(environment);
  if ((fields.repositories?.length ?? 0) > MAX_LENGTH.repositories) {
    errors.push({ code: UserErrorCode.TOO_LONG, field: 'repositories', message: `at most ${MAX_LENGTH.repositories} repositories per credential set.` });
  }
  for (const repo of fields.repositories ?? []) {
    if (!REPOSITORY.test(repo)) errors.push({ code: UserErrorCode.INVALID_REPOSITORY, field: 'repositories', message: `"${repo}" is not owner/name.` });
  }
  return errors;
}

/** Exactly one GitHub credential: a token, or an App (its id and private key). */
function checkGitHubCredential(set: Pick<CredentialSetFields, 'githubTokenRef' | 'githubAppId' | 'githubAppPrivateKeyRef'>): UserErrorData[] {
  const token = set.githubTokenRef != null;
  const app = set.githubAppId != null || set.githubAppPrivateKeyRef != null;
  if (token ? !app : set.githubAppId != null && set.githubAppPrivateKeyRef != null) return [];
  return [
    {
      code: UserErrorCode.GITHUB_CREDENTIAL_REQUIRED,
      field: token ? 'githubAppId' : app ? (set.githubAppId == null ? 'githubAppId' : 'githubAppPrivateKeyRef') : 'githubTokenRef',
      message: 'A credential set needs one GitHub credential: githubTokenRef, or a GitHub App (githubAppId and githubAppPrivateKeyRef, githubAppInstallationId optional), not both.',
    },
  ];
}

export function listCredentialSets(ds: DataSource): Promise<CredentialSet[]> {
  return ds.getRepository(CredentialSet).find({ order: { name: 'ASC' } });
}

export function getCredentialSet(ds: DataSource, id: string): Promise<CredentialSet | null> {
  if (!isUuid(id)) return Promise.resolve(null);
  return ds.getRepository(CredentialSet).findOneBy({ id });
}

const nameTaken = (name: string): UserErrorData => ({ code: UserErrorCode.NAME_TAKEN, field: 'name', message: `A credential set named "${name}" exists.` });
const isUniqueViolation = (e: unknown) => (e as { code?: string }).code === '23505';

export async function createCredentialSet(
  ds: DataSource,
  fields: CredentialSetFields,
  options: { sandbox?: boolean } = {},
): Promise<{ credentialSet: CredentialSet | null; userErrors: UserErrorData[] }> {
  const userErrors = check(fields, ['name', 'codexAuthRef']);
  userErrors.push(...checkGitHubCredential(fields));
  if (userErrors.length) return { credentialSet: null, userErrors };
  try {
    const saved = await ds.getRepository(CredentialSet).save(
      ds.getRepository(CredentialSet).create({
        name: fields.name!,
        codexAuthRef: fields.codexAuthRef!,
        githubTokenRef: fields.githubTokenRef ?? null,
        githubAppId: fields.githubAppId ?? null,
        githubAppInstallationId: fields.githubAppInstallationId ?? null,
        githubAppPrivateKeyRef: fields.githubAppPrivateKeyRef ?? null,
        commitVia: fields.commitVia ?? CommitVia.GIT,
        commitFallbackToGit: fields.commitFallbackToGit ?? false,
        codexEnvironment: fields.codexEnvironment ?? null,
        repositories: fields.repositories ?? [],
        maxConcurrentCodexTasks: fields.maxConcurrentCodexTasks ?? 3,
        sandbox: options.sandbox ?? false,
      }),
    );
    return { credentialSet: saved, userErrors: [] };
  } catch (e) {
    if (isUniqueViolation(e)) return { credentialSet: null, userErrors: [nameTaken(fields.name!)] };
    throw e;
  }
}

export async function updateCredentialSet(
  ds: DataSource,
  id: string,
  fields: CredentialSetFields,
): Promise<{ credentialSet: CredentialSet | null; userErrors: UserErrorData[] }> {
  const existing = await getCredentialSet(ds, id);
  if (!existing) return { credentialSet: null, userErrors: [{ code: UserErrorCode.NOT_FOUND, field: 'id', message: `No credential set ${id}.` }] };
  const userErrors = check(fields, []);
  if (userErrors.length) return { credentialSet: null, userErrors };
  // A token given switches the set to it; an App given switches the set to the App.
  if (fields.githubTokenRef != null) Object.assign(existing, { githubAppId: null, githubAppInstallationId: null, githubAppPrivateKeyRef: null });
  else if (fields.githubAppId != null) existing.githubTokenRef = null;
  for (const key of ['name', 'codexAuthRef', 'githubTokenRef', 'githubAppId', 'githubAppPrivateKeyRef', 'commitVia', 'commitFallbackToGit', 'repositories', 'maxConcurrentCodexTasks'] as const) {
    if (fields[key] != null) (existing as unknown as Record<string, unknown>)[key] = fields[key];
  }
  if (fields.githubAppInstallationId !== undefined) existing.githubAppInstallationId = fields.githubAppInstallationId;
  const credentialErrors = checkGitHubCredential(existing);
  if (credentialErrors.length) return { credentialSet: null, userErrors: credentialErrors };
  if (fields.codexEnvironment !== undefined) existing.codexEnvironment = fields.codexEnvironment;
  // A changed reference has not been validated yet.
  existing.validatedAt = null;
  existing.validationIssues = [];
  try {
    return { credentialSet: await ds.getRepository(CredentialSet).save(existing), userErrors: [] };
  } catch (e) {
    if (isUniqueViolation(e)) return { credentialSet: null, userErrors: [nameTaken(fields.name!)] };
    throw e;
  }
}

export async function deleteCredentialSet(ds: DataSource, id: string): Promise<UserErrorData[]> {
  const existing = await getCredentialSet(ds, id);
  if (!existing) return [{ code: UserErrorCode.NOT_FOUND, field: 'id', message: `No credential set ${id}.` }];
  const [{ count }] = await ds.query('SELECT count(*)::int AS count FROM spec_workflow_run WHERE credential_set_id = $1', [id]);
  if (count > 0) {
    return [{ code: UserErrorCode.IN_USE, field: 'id', message: `${count} run(s) reference this credential set; it is kept so their history stays readable.` }];
  }
  await ds.getRepository(CredentialSet).delete({ id });
  return [];
}
