import { expect, test } from 'vitest';
import { CREDENTIAL_FAILURES, FailureCode, RunStatus, Service, Step } from '../../src/interfaces.js';
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
  const failure = presentFailure({ failureCode: code, failureStep: Step.APPLY, failureMessage: 'm', failureRemediation: null, failureResumable: null, status: RunStatus.FAILED } as unknown as SpecWorkflowRun);
  expect(failure!.retryModes).toEqual(g.resumable ? ['RESUME', 'RESTART'] : ['RESTART']);
  expect(failure!.remediation).toBe(remediationFor(code).remediation);
});

test('credential remediation names the secret reference to fix', () => {
  for (const code of [FailureCode.CREDENTIALS_MISSING, FailureCode.CREDENTIALS_INVALID, FailureCode.CREDENTIALS_EXPIRED, FailureCode.PERMISSION_DENIED]) {
    expect(remediationFor(code, 'env:GITHUB_TOKEN').remediation).toContain('env:GITHUB_TOKEN');
  }
});

test.each(CREDENTIAL_FAILURES.flatMap((code) => [Service.CODEX, Service.GITHUB].map((service) => [code, service] as const)))(
  '%s remediation for a %s secret names that service and how to renew it, never the other',
  (code, service) => {
    const text = remediationFor(code, 'file:/run/secret', service).remediation;
    expect(text).toContain('file:/run/secret');
    const [mine, other] = service === Service.CODEX ? ['Codex Cloud', 'GitHub'] : ['GitHub', 'Codex'];
    expect(text).toContain(mine);
    expect(text).not.toContain(other);
    if (code === FailureCode.CREDENTIALS_EXPIRED || code === FailureCode.CREDENTIALS_INVALID) {
      expect(text).toContain(service === Service.CODEX ? 'codex login' : 'new GitHub token');
    }
  },
);

test('an unknown code falls back to INTERNAL guidance rather than nothing', () => {
  expect(remediationFor('SOMETHING_NEW')).toEqual(remediationFor(FailureCode.INTERNAL));
});
