import { readToken } from '../token.js';

/** What the operator reads when the service refuses the token: the same words for HTTP and WebSocket. */
export const TOKEN_REFUSED =
  'The service refused this token (401 Unauthorized). Paste a valid API token in the bar above and press "Use token".';
export const NO_TOKEN = 'No API token is set. Paste the token printed at start-up in the bar above and press "Use token".';

/** A request that did not give data: `code` is the GraphQL error code or one of ours (NO_TOKEN, UNAUTHENTICATED …). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

function authorization(): string {
  const token = readToken();
  if (!token) throw new ApiError(NO_TOKEN, 'NO_TOKEN');
  return `Bearer ${token}`;
}

async function send(path: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(path, init);
  } catch {
    throw new ApiError(`The service did not answer (${path}). Is it running? The page keeps what it has shown.`, 'UNREACHABLE');
  }
}

/** POST /graphql with the bearer token; GraphQL errors become an ApiError carrying the first error's code. */
export async function graphql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await send('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: authorization() },
    body: JSON.stringify({ query, variables }),
  });
  if (res.status === 401) throw new ApiError(TOKEN_REFUSED, 'UNAUTHENTICATED');
  const body = (await res.json().catch(() => null)) as { data?: T; errors?: { message: string; extensions?: { code?: string } }[] } | null;
  if (!body) throw new ApiError(`The service answered ${res.status} without a GraphQL result.`, 'BAD_RESPONSE');
  const error = body.errors?.[0];
  if (error) throw new ApiError(error.message, error.extensions?.code ?? 'GRAPHQL_ERROR');
  return body.data as T;
}

/**
 * Fetches a stored artifact with the token in the header and hands the browser the bytes as a download:
 * a plain link cannot carry the header, and the token must never go into a URL.
 */
export async function downloadArtifact(url: string, fileName: string): Promise<void> {
  const res = await send(url, { headers: { authorization: authorization() } });
  if (res.status === 401) throw new ApiError(TOKEN_REFUSED, 'UNAUTHENTICATED');
  if (!res.ok) {
    const reason = ((await res.json().catch(() => null)) as { error?: string } | null)?.error;
    throw new ApiError(`Download failed (${res.status})${reason ? `: ${reason}` : ''}.`, 'DOWNLOAD_FAILED');
  }
  const disposition = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1];
  const href = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = href;
  a.download = disposition ?? fileName;
  document.body.append(a);
  a.click();
  a.remove();
  // The click has handed the blob over; revoking later frees it without cutting the download short.
  setTimeout(() => URL.revokeObjectURL(href), 60_000);
}
