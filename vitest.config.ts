import { defineConfig } from 'vitest/config';

export default defineConfig({
  // type-graphql and TypeORM read decorator metadata; oxc emits it only when asked.
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
