import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createPublicKey } from 'node:crypto';
import { CommitVia } from '../interfaces.js';
import { join, resolve } from 'node:path';
import { startCodexEmulator, type CodexEmulator } from './codex-cloud/index.js';
import { createDemoRepository } from './demo-repo.js';
import { startGitHubEmulator, type GitHubEmulator } from './github/index.js';

/** The demo: repository sandbox/widgets, feature 001-greeting, Codex environment labelled like the repository. */
export const SANDBOX_REPOSITORY = 'sandbox/widgets';
export const SANDBOX_FEATURE = '001-greeting';
export const SANDBOX_ENVIRONMENT = { id: 'env_sandboxwidgets0001', label: 'sandbox/widgets', repository: SANDBOX_REPOSITORY };
export const SANDBOX_CREDENTIAL_SET = 'sandbox';
/** The sandbox's GitHub App credential set: installation tokens, and commits GitHub makes and signs. */
export const SANDBOX_APP_CREDENTIAL_SET = 'sandbox-app';
/** The sandbox GitHub App and its installation on the demo repository's owner. */
export const SANDBOX_APP = { id: '424242', slug: 'spec-chain-sandbox', installationId: 4242 };

export interface Sandbox {
  codex: CodexEmulator;
  github: GitHubEmulator;
  gitRoot: string;
  /** Provider endpoints for the configuration: everything points at the emulators. */
  endpoints: { codexBaseUrl: string; codexAuthUrl: string; githubApiUrl: string; gitBaseUrl: string };
  /** The same endpoints as the environment variables a `serve`/`work` process reads (with SANDBOX=0). */
  environment: Record<string, string>;
  /** The credential set fields for the emulators (secret references to files in the sandbox folder). */
  credentialSet: { name: string; codexAuthRef: string; githubTokenRef: string; codexEnvironment: string; repositories: string[] };
  /** The same for the sandbox GitHub App (its private key in the sandbox folder), committing through the API. */
  appCredentialSet: {
    name: string;
    codexAuthRef: string;
    githubTokenRef: null;
    githubAppId: string;
    githubAppPrivateKeyRef: string;
    commitVia: CommitVia;
    codexEnvironment: string;
    repositories: string[];
  };
  /** Mounted mode only: serves `/github/…` and `/codex/…` below `publicUrl` (the mount prefix removed). */
  handle(req: IncomingMessage, res: ServerResponse): void;
  stop(): Promise<void>;
}

/**
 * Starts the local Codex Cloud and GitHub, creates the demo repository (kept across starts, like the
 * pull requests and finished Codex tasks in the emulators' state files) and writes fresh sandbox
 * secrets: a ChatGPT-style auth.json signed in to the Codex emulator and a GitHub token the GitHub
 * emulator accepts. With `publicUrl` the emulators listen on no port of their own: the caller mounts
 * `handle` there (`npm start` mounts it at /sandbox on its own port, so links survive a restart);
 * without it each listens on a free port (tests).
 */
export async function startSandbox(dir: string, options: { publicUrl?: string } = {}): Promise<Sandbox> {
  const root = resolve(dir);
  const gitRoot = join(root, 'git');
  await mkdir(gitRoot, { recursive: true });
  await createDemoRepository(gitRoot, { owner: 'sandbox', name: 'widgets' });
  const base = options.publicUrl?.replace(/\/+$/, '');
  const codex = await startCodexEmulator({
    gitRoot,
    environments: [SANDBOX_ENVIRONMENT],
    stateFile: join(root, 'codex-state.json'),
    ...(base ? { publicUrl: `${base}/codex` } : {}),
  });
  const token = `ghs_sandbox_${randomBytes(16).toString('hex')}`;
  // The App's key is kept across starts, like a real App's: GitHub holds only its public half.
  const keyFile = join(root, 'github-app-key.pem');
  if (!existsSync(keyFile)) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    await writeFile(keyFile, privateKey, { mode: 0o600 });
  }
  const publicKey = createPublicKey(await readFile(keyFile, 'utf8')).export({ type: 'spki', format: 'pem' }).toString();
  const github = await startGitHubEmulator({
    gitRoot,
    tokens: { [token]: { login: 'spec-chain-sandbox', permission: 'ADMIN' } },
    apps: {
      [SANDBOX_APP.id]: {
        publicKey,
        slug: SANDBOX_APP.slug,
        installations: [
          { id: SANDBOX_APP.installationId, account: 'sandbox', repositories: [SANDBOX_REPOSITORY], permissions: { contents: 'write', pull_requests: 'write', metadata: 'read' } },
        ],
      },
    },
    stateFile: join(root, 'github-state.json'),
    ...(base ? { publicUrl: `${base}/github` } : {}),
  });
  const authFile = join(root, 'codex-auth.json');
  const tokenFile = join(root, 'github-token');
  await codex.writeAuthFile(authFile);
  const appAuthFile = join(root, 'codex-auth-app.json');
  await codex.writeAuthFile(appAuthFile);
  await writeFile(tokenFile, token + '\n', { mode: 0o600 });
  return {
    codex,
    github,
    gitRoot,
    endpoints: { codexBaseUrl: codex.baseUrl, codexAuthUrl: codex.authUrl, githubApiUrl: github.url, gitBaseUrl: github.gitBaseUrl },
    environment: {
      SANDBOX: '0',
      CODEX_BASE_URL: codex.baseUrl,
      CODEX_AUTH_URL: codex.authUrl,
      GITHUB_API_URL: github.url,
      GIT_BASE_URL: github.gitBaseUrl,
    },
    credentialSet: {
      name: SANDBOX_CREDENTIAL_SET,
      codexAuthRef: `file:${authFile}`,
      githubTokenRef: `file:${tokenFile}`,
      codexEnvironment: SANDBOX_ENVIRONMENT.label,
      repositories: [SANDBOX_REPOSITORY],
    },
    appCredentialSet: {
      name: SANDBOX_APP_CREDENTIAL_SET,
      codexAuthRef: `file:${appAuthFile}`,
      githubTokenRef: null,
      githubAppId: SANDBOX_APP.id,
      githubAppPrivateKeyRef: `file:${keyFile}`,
      commitVia: CommitVia.API,
      codexEnvironment: SANDBOX_ENVIRONMENT.label,
      repositories: [SANDBOX_REPOSITORY],
    },
    handle: (req, res) => {
      const match = /^\/(github|codex)(\/.*|$)/.exec(req.url ?? '/');
      if (!match) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'Not Found: the sandbox serves /github and /codex.' }));
        return;
      }
      req.url = match[2] || '/';
      (match[1] === 'github' ? github : codex).handle(req, res);
    },
    stop: async () => {
      await Promise.all([codex.stop(), github.stop()]);
    },
  };
}
