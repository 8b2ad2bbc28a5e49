import type { App } from '../app.js';
import { CredentialSet } from '../entities/index.js';
import { SANDBOX_FEATURE, SANDBOX_REPOSITORY, startSandbox, type Sandbox } from './index.js';
import { join } from 'node:path';

const ENDPOINT_VARIABLES = ['CODEX_BASE_URL', 'CODEX_AUTH_URL', 'GITHUB_API_URL', 'GIT_BASE_URL'];

/** Sandbox when asked (SANDBOX=1), or by default when no provider endpoint or real credential set is configured. */
export async function sandboxWanted(app: App, env: Record<string, string | undefined> = process.env): Promise<boolean> {
  if (app.config.sandbox !== 'auto') return app.config.sandbox === 'on';
  if (ENDPOINT_VARIABLES.some((name) => env[name])) return false;
  return (await app.ds.getRepository(CredentialSet).countBy({ sandbox: false })) === 0;
}

/**
 * Sandbox mode: the emulators take the place of Codex Cloud and GitHub for this process (the caller
 * runs with `sandbox.endpoints` as its provider configuration and serves `sandbox.handle` at
 * `publicUrl`), and a ready credential set named `sandbox` points at them. Said loudly, and every run
 * made with it is marked `sandbox: true`, so a sandbox run is never mistaken for a real one.
 */
export async function enterSandbox(app: Pick<App, 'config' | 'ds' | 'log'>, publicUrl: string): Promise<{ sandbox: Sandbox; credentialSetId: string }> {
  const sandbox = await startSandbox(join(app.config.dataDir, 'sandbox'), { publicUrl });
  const repo = app.ds.getRepository(CredentialSet);
  const existing = await repo.findOneBy({ name: sandbox.credentialSet.name });
  const saved = await repo.save(repo.create({ ...existing, ...sandbox.credentialSet, sandbox: true, validatedAt: null, validationIssues: [] }));
  // Beside it, the same emulators through a GitHub App: installation tokens, and commits GitHub signs.
  const existingApp = await repo.findOneBy({ name: sandbox.appCredentialSet.name });
  const savedApp = await repo.save(repo.create({ ...existingApp, ...sandbox.appCredentialSet, sandbox: true, validatedAt: null, validationIssues: [] }));
  app.log.warn(
    { sandbox: true, codex: sandbox.endpoints.codexBaseUrl, github: sandbox.endpoints.githubApiUrl, credentialSetId: saved.id },
    'SANDBOX MODE: Codex Cloud and GitHub are local emulators; runs are marked sandbox',
  );
  process.stdout.write(
    [
      '',
      '==================================================================================',
      ' SANDBOX MODE: Codex Cloud and GitHub are local emulators. Nothing leaves this machine,',
      ' and every run is marked sandbox: true. Set real credential sets and provider URLs',
      ' (see .env.example) or SANDBOX=0 to leave it.',
      ` Demo: repository ${SANDBOX_REPOSITORY}, feature ${SANDBOX_FEATURE}, credential set "sandbox" = ${saved.id}`,
      `       or "${sandbox.appCredentialSet.name}" = ${savedApp.id} (a GitHub App; commits made by GitHub and shown Verified)`,
      '==================================================================================',
      '',
    ].join('\n') + '\n',
  );
  return { sandbox, credentialSetId: saved.id };
}
