import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { ProviderError } from '../../src/providers/errors.js';
import { createCodexCloudClient, type CodexCloudClientOptions } from '../../src/providers/codex-cloud/index.js';
import { createDemoRepository, type DemoRepository } from '../../src/sandbox/demo-repo.js';
import { startCodexEmulator, type CodexEmulator } from '../../src/sandbox/codex-cloud/index.js';
import type { IssuedLogin } from '../../src/sandbox/codex-cloud/tokens.js';

/** A real emulator on 127.0.0.1, the demo repository behind it, and a signed-in auth.json. */
export interface CodexSandbox {
  dir: string;
  gitRoot: string;
  demo: DemoRepository;
  emulator: CodexEmulator;
  authPath: string;
  authRef: string;
  login: IssuedLogin;
  client(options?: Partial<CodexCloudClientOptions>): ReturnType<typeof createCodexCloudClient>;
  stop(): Promise<void>;
}

export const ENVIRONMENTS = [
  { id: 'env_widgets', label: 'Widgets', repository: 'sandbox/widgets' },
  { id: 'env_shared_a', label: 'shared', repository: 'sandbox/widgets' },
  { id: 'env_shared_b', label: 'Shared', repository: 'sandbox/gadgets' },
  { id: 'env_gadgets', label: 'gadgets', repository: 'sandbox/gadgets' },
];

export async function startCodexSandbox(options: { ttlSeconds?: number } = {}): Promise<CodexSandbox> {
  const dir = await mkdtemp(join(tmpdir(), 'codex-cloud-test-'));
  const gitRoot = join(dir, 'git');
  const demo = await createDemoRepository(gitRoot, { owner: 'sandbox', name: 'widgets' });
  const emulator = await startCodexEmulator({ port: 0, host: '127.0.0.1', gitRoot, environments: ENVIRONMENTS });
  const authPath = join(dir, 'auth.json');
  const login = await emulator.writeAuthFile(authPath, { ttlSeconds: options.ttlSeconds });
  const authRef = `file:${authPath}`;
  return {
    dir,
    gitRoot,
    demo,
    emulator,
    authPath,
    authRef,
    login,
    client: (overrides = {}) =>
      createCodexCloudClient({ authRef, baseUrl: emulator.baseUrl, authUrl: emulator.authUrl, ...overrides }),
    async stop() {
      await emulator.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until the task leaves PENDING (the emulator settles in well under a second). */
export async function waitForTask(client: ReturnType<typeof createCodexCloudClient>, taskId: string, maxPolls = 50) {
  for (let i = 0; i < maxPolls; i += 1) {
    const snapshot = await client.getTask(taskId);
    if (snapshot.status !== 'PENDING') return snapshot;
  }
  throw new Error(`task ${taskId} still pending after ${maxPolls} polls`);
}

/** The ProviderError a call fails with; neither its message nor its details may hold any of `secrets`. */
export async function rejection(promise: Promise<unknown>, secrets: readonly string[] = []): Promise<ProviderError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  const text = `${(error as Error).message} ${JSON.stringify((error as ProviderError).details)}`;
  for (const secret of secrets) expect(text).not.toContain(secret);
  return error as ProviderError;
}
