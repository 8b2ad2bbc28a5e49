/** The API token the browser pages share: kept in this browser's localStorage only, never in a URL. */
export const TOKEN_KEY = 'spec-chain.token';

export function readToken(): string {
  return (localStorage.getItem(TOKEN_KEY) ?? '').trim();
}

export function saveToken(token: string): void {
  localStorage.setItem(TOKEN_KEY, token.trim());
}
