import { expect } from 'vitest';
import { ProviderError } from '../../src/providers/errors.js';

/** Awaits a promise that must fail with a ProviderError, and returns that error. */
export async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}
