import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDemoRepository } from '../../src/sandbox/demo-repo.js';
import { git } from '../../src/sandbox/codex-cloud/git.js';

const roots: string[] = [];
async function freshRoot(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'demo-repo-test-'));
  roots.push(root);
  return root;
}
afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

describe('createDemoRepository', () => {
  it('creates a bare repository with main, history and a Spec Kit feature', async () => {
    const root = await freshRoot();
    const demo = await createDemoRepository(root, { owner: 'sandbox', name: 'widgets' });
    expect(demo).toMatchObject({ repository: 'sandbox/widgets', path: join(root, 'sandbox', 'widgets.git'), created: true });

    expect((await git(['rev-parse', '--is-bare-repository'], { cwd: demo.path })).stdout.trim()).toBe('true');
    expect((await git(['symbolic-ref', 'HEAD'], { cwd: demo.path })).stdout.trim()).toBe('refs/heads/main');
    const log = (await git(['log', '--format=%an <%ae> %aI', 'main'], { cwd: demo.path })).stdout.trim().split('\n');
    expect(log.length).toBeGreaterThanOrEqual(4);
    expect(new Set(log.map((line) => line.split(' 20')[0]))).toEqual(new Set(['Spec Chain Sandbox <sandbox@spec-chain.invalid>']));

    const show = async (file: string) => (await git(['show', `main:${file}`], { cwd: demo.path })).stdout;
    expect(JSON.parse(await show('.specify/feature.json'))).toEqual({ feature_directory: 'specs/001-greeting' });
    await show('specs/001-greeting/spec.md');
    await show('specs/001-greeting/plan.md');
    const tasks = await show('specs/001-greeting/tasks.md');
    const phases = tasks.split('\n').filter((line) => /^## Phase \d+/.test(line));
    expect(phases.length).toBeGreaterThanOrEqual(3);
    expect(phases[0]).toMatch(/Setup/);
    expect(phases[1]).toMatch(/Foundational/);
    expect(phases[2]).toMatch(/User Story 1/);
    expect(tasks).toMatch(/^- \[ \] T\d{3} \[P\] \[US1\] /m);
    expect(tasks).not.toMatch(/^- \[[xX]\]/m);
  });

  it('is reproducible: the same history hashes the same in another root', async () => {
    const [a, b] = [await freshRoot(), await freshRoot()];
    const heads = await Promise.all(
      [a, b].map(async (root) => {
        const demo = await createDemoRepository(root);
        return (await git(['rev-parse', 'main'], { cwd: demo.path })).stdout.trim();
      }),
    );
    expect(heads[0]).toMatch(/^[0-9a-f]{40}$/);
    expect(heads[1]).toBe(heads[0]);
  });

  it('leaves an existing repository alone, also when two calls race', async () => {
    const root = await freshRoot();
    const [first, second] = await Promise.all([createDemoRepository(root), createDemoRepository(root)]);
    expect([first.created, second.created].filter(Boolean).length).toBeLessThanOrEqual(1);
    const head = (await git(['rev-parse', 'main'], { cwd: first.path })).stdout.trim();
    // A commit pushed to it survives a later call.
    const work = join(root, 'work');
    await git(['clone', '-q', first.path, work]);
    await git(['commit', '-q', '--allow-empty', '-m', 'operator change'], { cwd: work });
    await git(['push', '-q', 'origin', 'main'], { cwd: work });
    const again = await createDemoRepository(root);
    expect(again.created).toBe(false);
    const after = (await git(['rev-parse', 'main'], { cwd: first.path })).stdout.trim();
    expect(after).not.toBe(head);
    expect((await git(['log', '-1', '--format=%s', 'main'], { cwd: first.path })).stdout.trim()).toBe('operator change');
  });
});
