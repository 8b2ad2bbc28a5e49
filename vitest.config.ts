import { defineConfig } from 'vitest/config';

export default defineConfig({
  // type-graphql and TypeORM read decorator metadata; oxc emits it only when asked.
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } },
  // Node loads graphql's CommonJS build for type-graphql and Apollo; tests must use the same instance,
  // not the .mjs one vite would pick, or graphql refuses to mix the two.
  resolve: { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    // The machine has 2 cores and the suite runs real servers, git and browsers: polls wait for the
    // state they expect for longer than vitest's 1 s default before calling it a failure.
    expect: { poll: { timeout: 30_000, interval: 50 } },
    hookTimeout: 120_000,
  },
});
