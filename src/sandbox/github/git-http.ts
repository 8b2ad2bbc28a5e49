import { spawn } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** What git-over-HTTP needs to know about the caller (null: no or unknown credentials). */
export interface GitCaller {
  login: string;
  canRead: boolean;
  canWrite: boolean;
}

/** The token in a git request: Basic (any user name, token as password, as GitHub takes it) or Bearer. */
export function gitRequestToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization ?? '';
  const basic = /^Basic\s+(.+)$/i.exec(header);
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon < 0 ? decoded : decoded.slice(colon + 1) || decoded.slice(0, colon);
  }
  return /^(?:Bearer|token)\s+(.+)$/i.exec(header)?.[1];
}

/**
 * Serves `/<owner>/<name>.git/...` the way github.com does for git clients, through the real
 * `git http-backend`: clone and fetch need a token that can read, push one that can write.
 */
export function serveGit(req: IncomingMessage, res: ServerResponse, gitRoot: string, pathInfo: string, caller: GitCaller | null): void {
  const url = new URL(req.url ?? '/', 'http://emulator');
  const service = url.searchParams.get('service') ?? pathInfo.split('/').pop() ?? '';
  if (!caller) {
    res.writeHead(401, { 'www-authenticate': 'Basic realm="GitHub"', 'content-type': 'text/plain' }).end('Invalid username or token.\n');
    return;
  }
  const pushing = service === 'git-receive-pack';
  if (!caller.canRead || (pushing && !caller.canWrite)) {
    const repo = pathInfo.split('/').slice(1, 3).join('/');
    res.writeHead(403, { 'content-type': 'text/plain' }).end(`Permission to ${repo} denied to ${caller.login}.\n`);
    return;
  }
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    // As github.com: partial clones (`--filter=blob:none`) and the lazy fetches of single objects they make.
    GIT_CONFIG_COUNT: '2',
    GIT_CONFIG_KEY_0: 'uploadpack.allowFilter',
    GIT_CONFIG_VALUE_0: 'true',
    GIT_CONFIG_KEY_1: 'uploadpack.allowAnySHA1InWant',
    GIT_CONFIG_VALUE_1: 'true',
    GIT_PROJECT_ROOT: gitRoot,
    GIT_HTTP_EXPORT_ALL: '1',
    PATH_INFO: pathInfo,
    REQUEST_METHOD: req.method ?? 'GET',
    QUERY_STRING: url.search.slice(1),
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    REMOTE_USER: caller.login,
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
    GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
    HTTP_CONTENT_ENCODING: String(req.headers['content-encoding'] ?? ''),
  };
  if (req.headers['content-length']) env.CONTENT_LENGTH = req.headers['content-length'];
  const backend = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'ignore'] });
  req.pipe(backend.stdin);
  backend.stdin.on('error', () => {});

  // CGI output: header lines, a blank line, then the body, streamed through.
  let head = Buffer.alloc(0);
  let headersSent = false;
  backend.stdout.on('data', (chunk: Buffer) => {
    if (headersSent) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n') >= 0 ? head.indexOf('\r\n\r\n') : head.indexOf('\n\n');
    if (end < 0) return;
    const separator = head[end] === 0x0d ? 4 : 2;
    let status = 200;
    const headers: Record<string, string> = {};
    for (const line of head.subarray(0, end).toString('latin1').split(/\r?\n/)) {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'status') status = Number.parseInt(value, 10) || 200;
      else headers[name] = value;
    }
    res.writeHead(status, headers);
    headersSent = true;
    res.write(head.subarray(end + separator));
  });
  backend.on('close', () => {
    if (!headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end('git http-backend failed\n');
    else res.end();
  });
  backend.on('error', () => {
    if (!headersSent) res.writeHead(500).end();
  });
}
