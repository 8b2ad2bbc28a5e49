import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startCodexEmulator, type ScriptedOutcome } from '../src/sandbox/codex-cloud/index.js';
import { createDemoRepository } from '../src/sandbox/demo-repo.js';
import { startGitHubEmulator } from '../src/sandbox/github/index.js';
import { SANDBOX_ENVIRONMENT } from '../src/sandbox/index.js';
import { LARGE_ENVIRONMENT, linkRepository, type EmulatorsReady } from './large-repo.js';

/**
 * The Codex Cloud and GitHub emulators in a process of their own (run by spec-chain-runs.ts through
 * `fork`), so the CPU the benchmark measures in its own process is the service's, and the emulators'
 * git (http-backend for every fetch and push) does not stall the service's event loop.
 * argv: the folder to work in, and the cached large repository to serve as `bench/large`.
 */
async function main(): Promise<void> {
  const [dir, large] = process.argv.slice(2);
  const gitRoot = join(dir!, 'git');
  await mkdir(gitRoot, { recursive: true });
  await createDemoRepository(gitRoot, { owner: 'sandbox', name: 'widgets' });
  await linkRepository(large!, gitRoot, 'bench', 'large');
  const codex = await startCodexEmulator({ gitRoot, environments: [SANDBOX_ENVIRONMENT, LARGE_ENVIRONMENT], port: 0 });
  const token = `ghs_bench_${randomBytes(16).toString('hex')}`;
  const github = await startGitHubEmulator({ gitRoot, tokens: { [token]: { login: 'spec-chain-bench', permission: 'ADMIN' } } });
  const authFile = join(dir!, 'codex-auth.json');
  const tokenFile = join(dir!, 'github-token');
  await codex.writeAuthFile(authFile);
  await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
  const ready: EmulatorsReady = {
    gitRoot,
    environment: { SANDBOX: '0', CODEX_BASE_URL: codex.baseUrl, CODEX_AUTH_URL: codex.authUrl, GITHUB_API_URL: github.url, GIT_BASE_URL: github.gitBaseUrl },
    codexAuthRef: `file:${authFile}`,
    githubTokenRef: `file:${tokenFile}`,
    codexBaseUrl: codex.baseUrl,
  };
  // The benchmark says what the next Codex tasks do; the answer tells it they are queued.
  process.on('message', (message: { type: string; id: number; outcomes: ScriptedOutcome[] }) => {
    if (message.type !== 'script') return;
    codex.script(...message.outcomes);
    process.send!({ type: 'scripted', id: message.id });
  });
  process.send!({ type: 'ready', ready });
  process.on('disconnect', () => {
    void Promise.all([codex.stop(), github.stop()]).finally(() => process.exit(0));
  });
}

main().catch((error) => {
  process.stderr.write(`emulators failed: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
