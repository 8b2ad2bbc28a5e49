import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { PROJECT_ROOT, WEB_DIR } from '../../src/server/paths.js';
import { TOKEN_KEY } from '../../web/token.js';

/** Newest modification time of the files under a folder (0 when it does not exist). */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

function builtAt(): number {
  try {
    return Math.min(statSync(join(WEB_DIR, 'index.html')).mtimeMs, statSync(join(WEB_DIR, 'runs.html')).mtimeMs);
  } catch {
    return 0;
  }
}

/**
 * Builds dist/web with vite when it is missing or older than web/ (CI's `npm install` builds it already).
 * Test files run in parallel workers, so a lock folder keeps two builds from emptying each other's output.
 */
export async function ensureWebBuilt(): Promise<void> {
  const lock = join(PROJECT_ROOT, 'dist', '.web-build.lock');
  mkdirSync(join(PROJECT_ROOT, 'dist'), { recursive: true });
  for (const deadline = Date.now() + 120_000; ; ) {
    if (builtAt() >= newest(join(PROJECT_ROOT, 'web'))) return;
    try {
      mkdirSync(lock);
    } catch {
      if (Date.now() > deadline) throw new Error(`waited 120 s for another web build (remove ${lock} if none runs)`);
      await new Promise((r) => setTimeout(r, 250));
      continue;
    }
    try {
      if (builtAt() < newest(join(PROJECT_ROOT, 'web'))) {
        execFileSync(process.execPath, [join(PROJECT_ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], {
          cwd: PROJECT_ROOT,
          stdio: ['ignore', 'ignore', 'inherit'],
        });
      }
    } finally {
      rmdirSync(lock);
    }
  }
}

/** A page together with every URL it asked for (HTTP requests and WebSockets). */
export interface RecordedPage {
  page: Page;
  urls: URL[];
  /** Answers with a status of 400 or more (`<status> <path>`), e.g. a missing favicon or a refused request. */
  failures: string[];
  /** What the browser refused under the service's Content-Security-Policy (its console says so). */
  cspViolations: string[];
}

export interface Browser {
  context: BrowserContext;
  /**
   * Opens a page recording what it requests. `token` is stored before any script runs (as the token bar
   * would have), `prepare` runs before the first navigation (routes, listeners).
   */
  open(url: string, options?: { token?: string; prepare?: (page: Page) => Promise<void> }): Promise<RecordedPage>;
  /** Saves a screenshot when SCREENSHOT_DIR is set (to look at by hand); never into the work tree otherwise. */
  screenshot(page: Page, name: string): Promise<void>;
  close(): Promise<void>;
}

/** Debian's Chromium, headless, with a fresh profile and every host but loopback unresolvable. */
export async function launchBrowser(): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), 'spec-chain-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
    ],
  });
  return {
    context,
    async open(url, options = {}) {
      const page = await context.newPage();
      const urls: URL[] = [];
      const failures: string[] = [];
      const cspViolations: string[] = [];
      page.on('console', (message) => {
        if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
      });
      page.on('request', (request) => urls.push(new URL(request.url())));
      page.on('response', (response) => {
        if (response.status() >= 400) failures.push(`${response.status()} ${new URL(response.url()).pathname}`);
      });
      page.on('websocket', (socket) => urls.push(new URL(socket.url())));
      if (options.token) await page.addInitScript(([key, token]) => localStorage.setItem(key!, token!), [TOKEN_KEY, options.token]);
      await options.prepare?.(page);
      await page.goto(url);
      return { page, urls, failures, cspViolations };
    },
    async screenshot(page, name) {
      const dir = process.env.SCREENSHOT_DIR;
      if (dir) await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
    },
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** The hosts a page reached over the network; data: and blob: URLs never leave the browser. */
export function networkHosts(urls: URL[]): string[] {
  return [...new Set(urls.filter((u) => !['data:', 'blob:'].includes(u.protocol)).map((u) => `${u.protocol}//${u.hostname}`))].sort();
}

/** Stores a token the way the token bar does, then shows the page again with it. */
export async function useToken(page: Page, token: string): Promise<void> {
  await page.locator('#token').fill(token);
  await page.getByRole('button', { name: 'Use token' }).click();
}

/** The trimmed text of the first element matching `selector` ('' when there is none yet). */
export const text = async (page: Page, selector: string): Promise<string> => ((await page.locator(selector).first().textContent()) ?? '').trim();
