import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { branchName, isValidBranchName } from '../../src/providers/git/index.js';

/** git's own verdict on `refs/heads/<name>`. */
function gitAccepts(name: string): boolean {
  try {
    execFileSync('git', ['check-ref-format', `refs/heads/${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('branchName', () => {
  it('keeps ordinary ids as they are', () => {
    expect(branchName('001-widgets', '3')).toBe('spec-chain/001-widgets/phase-3');
    expect(branchName('042-user.auth_v2', 'setup')).toBe('spec-chain/042-user.auth_v2/phase-setup');
  });

  it('repairs ids git would refuse, deterministically, without merging distinct ids', () => {
    const odd = ['feat ure', 'feat-ure', 'a..b', 'x.lock', '.hidden', 'a/b', 'a@{b', 'tilde~caret^colon:', 'q?s*b[\\', 'ctl\u0001\u007f', 'é', ''];
    const names = odd.map((id) => branchName(id, 'phase 2'));
    for (const name of names) {
      expect(gitAccepts(name), name).toBe(true);
      expect(isValidBranchName(name), name).toBe(true);
      expect(name.split('/')).toHaveLength(3);
    }
    expect(new Set(names).size).toBe(names.length);
    expect(odd.map((id) => branchName(id, 'phase 2'))).toEqual(names);
  });

  it('is always a name git accepts, whatever the ids', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 120, unit: 'binary' }), fc.string({ maxLength: 20, unit: 'binary' }), (feature, phase) => {
        const name = branchName(feature, phase);
        return gitAccepts(name) && isValidBranchName(name) && name === branchName(feature, phase);
      }),
      { numRuns: 150 },
    );
  });

  it('isValidBranchName never accepts what git refuses', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30, unit: fc.constantFrom('a', 'b', '.', '/', '-', '@', '{', '~', ' ', 'k', 'l', 'o', 'c') }), (name) => {
        return !isValidBranchName(name) || gitAccepts(name);
      }),
      { numRuns: 150 },
    );
  });
});
