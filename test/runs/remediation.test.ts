import { expect, test } from 'vitest';
import { FailureCode, RunStatus, Step } from '../../src/interfaces.js';
import { GUIDANCE, remediationFor } from '../../src/runs/remediation.js';
import { presentFailure } from '../../src/runs/present.js';
import type { SpecWorkflowRun } from '../../src/entities/index.js';

test.each(Object.values(FailureCode))('%s has remediation that tells the operator what to do next', (code) => {
  const g = GUIDANCE[code];
  expect(g).toBeDefined();
  expect(g.remediation.length).toBeGreaterThan(40);
  // Every remediation ends in an action the API offers, or says to look before acting.
  expect(g.remediation).toMatch(/RESUME|RESTART|Review/);
  // Resumable failures say RESUME; the others do not promise it.
  if (g.resumable) expect(g.remediation).toContain('RESUME');
  const failure = presentFailure({ failureCode: code, failureStep: Step.APPLY, failureMessage: 'm', failureRemediation: null, failureResumable: null, status: RunStatus.FAILED } as SpecWorkflowRun);
  expect(failure!.retryModes).toEqual(g.resumable ? ['RESUME', 'RESTART'] : ['RESTART']);
  expect(failure!.remediation).toBe(remediationFor(code).remediation);
});

test('credential remediation names the secret reference to fix', () => {
  for (const code of [FailureCode.CREDENTIALS_MISSING, FailureCode.CREDENTIALS_INVALID, FailureCode.CREDENTIALS_EXPIRED, FailureCode.PERMISSION_DENIED]) {
    expect(remediationFor(code, 'env:GITHUB_TOKEN').remediation).toContain('env:GITHUB_TOKEN');
  }
});

test('an unknown code falls back to INTERNAL guidance rather than nothing', () => {
  expect(remediationFor('SOMETHING_NEW')).toEqual(GUIDANCE[FailureCode.INTERNAL]);
});
