import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { startCodexEmulator, type CodexEmulator } from './codex-cloud/index.js';
import { createDemoRepository } from './demo-repo.js';
import { startGitHubEmulator, type GitHubEmulator } from './github/index.js';

/** The demo: repository sandbox/widgets, feature 001-greeting, Codex environment labelled like the repository. */
export const SANDBOX_REPOSITORY = 'sandbox/widgets';
export const SANDBOX_FEATURE = '001-greeting';
export const SANDBOX_ENVIRONMENT = { id: 'env_sandboxwidgets0001', label: 'sandbox/widgets', repository: SANDBOX_REPOSITORY };
export const SANDBOX_CREDENTIAL_SET = 'sandbox';

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
  stop(): Promise<void>;
}

/**
 * Starts the local Codex Cloud and GitHub, creates the demo repository (kept across starts, like the
 * pull requests in the GitHub emulator's state file) and writes fresh sandbox secrets: a ChatGPT-style
 * auth.json signed in to the Codex emulator and a GitHub token the GitHub emulator accepts.
 */
export async function startSandbox(dir: string, options: { port?: number } = {}): Promise<Sandbox> {
  const root = resolve(dir);
  const gitRoot = join(root, 'git');
  await mkdir(gitRoot, { recursive: true });
  await createDemoRepository(gitRoot, { owner: 'sandbox', name: 'widgets' });
  const codex = await startCodexEmulator({ gitRoot, environments: [SANDBOX_ENVIRONMENT], port: options.port ?? 0 });
  const token = `ghs_sandbox_${randomBytes(16).toString('hex')}`;
  const github = await startGitHubEmulator({
    gitRoot,
    tokens: { [token]: { login: 'spec-chain-sandbox', permission: 'ADMIN' } },
    stateFile: join(root, 'github-state.json'),
  });
  const authFile = join(root, 'codex-auth.json');
  const tokenFile = join(root, 'github-token');
  await codex.writeAuthFile(authFile);
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
    stop: async () => {
      await Promise.all([codex.stop(), github.stop()]);
    },
  };
}
