/** A token for git over HTTPS. `secretRef` names where it came from, for remediation text. */
export interface GitAuth {
  token: string;
  secretRef?: string;
}

/**
 * The environment that hands a token to git: an `http.<remote>.extraHeader` set through
 * GIT_CONFIG_COUNT/KEY/VALUE, scoped to the remote's base URL so no other host ever receives it.
 * Nothing lands in a URL, an argument list or a config file. `secrets` lists every form of the
 * token that must be redacted from git's output.
 */
export function gitAuth(remoteBase: string, auth: GitAuth | undefined): { env: Record<string, string>; secrets: string[] } {
  if (!auth || !/^https?:/i.test(remoteBase)) return { env: {}, secrets: auth ? [auth.token] : [] };
  const basic = Buffer.from(`x-access-token:${auth.token}`).toString('base64');
  return {
    env: {
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: `http.${remoteBase.replace(/\/+$/, '')}/.extraHeader`,
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
    },
    secrets: [auth.token, basic],
  };
}
