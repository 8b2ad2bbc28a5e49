import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { gitProcessesStarted } from '../../src/providers/git/index.js';
import { startWorld, type World } from '../support/world.js';

// The workers run in this process, so every git process the service starts is counted here (the
// emulators start theirs directly, not through the service's launcher).
let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => world?.close());

const MAX_GIT_PROCESSES_PER_RUN = 12;

test(`a run starts at most ${MAX_GIT_PROCESSES_PER_RUN} git processes of its own, makes no checkout and leaves nothing behind`, async () => {
  const counts: number[] = [];
  // The first on a fresh cache (it creates the cache and starts its object reader), then a second one.
  for (let i = 0; i < 2; i++) {
    const before = gitProcessesStarted();
    const { run: started } = await world.start({ featureId: await world.freshFeature() });
    const run = await world.waitFor(started.id);
    expect(run.failure).toBeNull();
    expect(run.status).toBe('SUCCEEDED');
    counts.push(gitProcessesStarted() - before);
  }
  console.info(`git processes started by the service per run: ${counts.join(', ')} (fresh cache, then warm)`);
  for (const count of counts) {
    expect(count).toBeGreaterThan(3);
    expect(count).toBeLessThanOrEqual(MAX_GIT_PROCESSES_PER_RUN);
  }
  const cache = join(world.dir, 'git-cache');
  expect(readdirSync(cache).sort()).toEqual(['.scratch', 'sandbox']);
  expect(readdirSync(join(cache, '.scratch'))).toEqual([]);
  expect(existsSync(join(world.dir, 'worktrees'))).toBe(false);
  expect(existsSync(join(cache, 'sandbox', 'widgets.git', 'worktrees'))).toBe(false);
});
