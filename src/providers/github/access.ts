import { FailureCode, FailureKind } from '../../interfaces.js';
import { ProviderError } from '../errors.js';
import { hasErrorType } from './classify.js';
import { parseRepository } from '../git/repository.js';
import { REPOSITORY_ACCESS, VIEWER } from './documents.js';
import type { Send } from './request.js';

/** A problem found before a run starts: which secret reference to fix, a code, and how. */
export interface AccessIssue {
  ref: string;
  code: FailureCode;
  message: string;
}

const CAN_PUSH = ['ADMIN', 'MAINTAIN', 'WRITE'];

/**
 * Preflight for a GitHub token: it must be valid (a viewer), see each repository, and be allowed to
 * push and open pull requests there (WRITE or more). Returns one issue per problem, none when all is well.
 * A transient failure (GitHub unreachable) is thrown rather than reported as a problem with the token.
 */
export async function checkAccess(send: Send, tokenRef: string, repositories: readonly string[], signal?: AbortSignal): Promise<AccessIssue[]> {
  try {
    await send<{ viewer: { login: string } }>(VIEWER, {}, signal);
  } catch (error) {
    return [issueFrom(error, tokenRef, 'GitHub')];
  }
  const issues: AccessIssue[] = [];
  for (const repository of repositories) {
    let permission: string | null;
    try {
      const { owner, name } = parseRepository(repository);
      const data = await send<{ repository: { viewerPermission: string | null } | null }>(REPOSITORY_ACCESS, { owner, name }, signal);
      permission = data.repository?.viewerPermission ?? null;
    } catch (error) {
      if (hasErrorType(error, 'NOT_FOUND')) {
        issues.push({
          ref: tokenRef,
          code: FailureCode.REPOSITORY_UNAVAILABLE,
          message: `The token in ${tokenRef} cannot see ${repository}: check the repository name, or grant the token access to it.`,
        });
        continue;
      }
      issues.push(issueFrom(error, tokenRef, repository));
      continue;
    }
    if (!permission || !CAN_PUSH.includes(permission)) {
      issues.push({
        ref: tokenRef,
        code: FailureCode.PERMISSION_DENIED,
        message:
          `The token in ${tokenRef} has ${permission ?? 'no'} permission on ${repository}; publishing needs WRITE ` +
          '(contents: write and pull requests: write for a fine-grained token, or the repo scope for a classic one).',
      });
    }
  }
  return issues;
}

function issueFrom(error: unknown, tokenRef: string, where: string): AccessIssue {
  if (!(error instanceof ProviderError) || error.kind === FailureKind.TRANSIENT) throw error;
  if (error.code === FailureCode.CREDENTIALS_INVALID || error.code === FailureCode.CREDENTIALS_EXPIRED) {
    return {
      ref: tokenRef,
      code: error.code,
      message: `GitHub rejected the token in ${tokenRef} (${error.code === FailureCode.CREDENTIALS_EXPIRED ? 'expired' : 'bad credentials'}): put a valid token there.`,
    };
  }
  return { ref: tokenRef, code: error.code, message: `${where}: ${error.message}` };
}
