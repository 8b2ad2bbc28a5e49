/** GitHub's GraphQL error types the emulator answers with (`errors[].type`). */
export type GitHubErrorType =
  | 'NOT_FOUND'
  | 'FORBIDDEN'
  | 'UNPROCESSABLE'
  | 'STALE_DATA'
  | 'RATE_LIMITED'
  | 'INTERNAL'
  | 'MISSING_PAGINATION_BOUNDARIES'
  | 'EXCESSIVE_PAGINATION';

/** Thrown by a resolver; the server answers it as `{ type, path, locations, message }`. */
export class GitHubError extends Error {
  constructor(
    readonly type: GitHubErrorType,
    message: string,
  ) {
    super(message);
    this.name = 'GitHubError';
  }
}

export const notFound = (message: string) => new GitHubError('NOT_FOUND', message);
export const unprocessable = (message: string) => new GitHubError('UNPROCESSABLE', message);
