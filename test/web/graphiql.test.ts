import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { gql, TOKENS } from '../support/service.js';
import { startWorld, type World } from '../support/world.js';
import { TOKEN_KEY } from '../../web/token.js';
import { ensureWebBuilt, launchBrowser, networkHosts, text, useToken, type Browser } from './browser.js';

let world: World;
let browser: Browser;
beforeAll(async () => {
  await ensureWebBuilt();
  // No workers: a started run stays QUEUED until the test moves it.
  [world, browser] = await Promise.all([startWorld({ workers: false }), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await world?.close();
});

const LOOPBACK = /^(http|ws):\/\/127\.0\.0\.1$/;

/** The response pane's text: Monaco draws spaces as no-break spaces. */
const responseText = async (page: Page) =>
  (await page.locator('.graphiql-response').innerText()).replace(/\u00a0/g, ' ');

test('GraphiQL renders from loopback only and runs the default query with the token', async () => {
  const { page, urls, cspViolations } = await browser.open(`${world.svc.url}/`);
  await useToken(page, TOKENS.viewer);
  await expect.poll(() => page.locator('.graphiql-query-editor').innerText(), { timeout: 15_000 }).toContain('totalCount');
  await page.getByRole('button', { name: /execute query/i }).click();
  await expect.poll(() => responseText(page), { timeout: 15_000 }).toContain('"totalCount": 0');
  await browser.screenshot(page, 'graphiql-default-query');
  // The page, its scripts, styles, fonts and editor workers, and the API: all from the service itself.
  expect(urls.length).toBeGreaterThan(5);
  expect(networkHosts(urls)).toContain('http://127.0.0.1');
  expect(networkHosts(urls).filter((host) => !LOOPBACK.test(host))).toEqual([]);
  // The editor, its workers and its styles all work under the service's Content-Security-Policy.
  expect(cspViolations).toEqual([]);
  await page.close();
});

test('before a token is pasted GraphiQL sends nothing and says what to do; no page asks for a missing file', async () => {
  // A browser that never stored a token (the profile is shared by the tests).
  const forget = async (p: Page) => void (await p.addInitScript((key) => localStorage.removeItem(key), TOKEN_KEY));
  const { page, urls, failures } = await browser.open(`${world.svc.url}/`, { prepare: forget });
  await expect.poll(() => page.locator('.graphiql-query-editor').innerText(), { timeout: 15_000 }).toContain('totalCount');
  expect(await text(page, '#token-state')).toBe('no token yet');
  await page.getByRole('button', { name: /execute query/i }).click();
  await expect.poll(() => responseText(page), { timeout: 15_000 }).toContain('No API token yet: paste the token');
  expect(await responseText(page)).not.toContain('UNAUTHENTICATED');
  // No introspection or query went out without a token, so nothing was refused; the favicon is there.
  expect(urls.filter((u) => u.pathname === '/graphql')).toEqual([]);
  // Headless Chromium does not fetch icons: follow the page's own icon link instead.
  const icon = await fetch(new URL((await page.locator('link[rel=icon]').getAttribute('href'))!, world.svc.url));
  expect([icon.status, icon.headers.get('content-type')]).toEqual([200, 'image/svg+xml']);
  const runs = await browser.open(`${world.svc.url}/runs`, { prepare: forget });
  await expect.poll(() => text(runs.page, '#notice')).toContain('No API token is set');
  expect([...failures, ...runs.failures]).toEqual([]);
  await runs.page.close();
  await page.close();
});

test('a subscription runs from GraphiQL over the WebSocket with the token and shows live events', async () => {
  const { run } = await world.start();
  const query = `subscription Watch($runId: ID!) { runUpdated(runId: $runId, afterVersion: 0) { version event { to } run { status } } }`;
  const link = `${world.svc.url}/?${new URLSearchParams({ query, variables: JSON.stringify({ runId: run.id }) })}`;
  const { page, urls, cspViolations } = await browser.open(link);
  await useToken(page, TOKENS.viewer);
  // The linked operation opens in its own tab once the editor has loaded; executing earlier runs nothing.
  await expect.poll(() => page.locator('.graphiql-query-editor').innerText(), { timeout: 15_000 }).toContain('runUpdated');
  await page.getByRole('button', { name: /execute (query|subscription)/i }).click();
  // The log so far is replayed first…
  await expect.poll(() => responseText(page), { timeout: 15_000 }).toContain(`"version": ${run.version}`);
  // …then a transition made elsewhere arrives on the open subscription.
  const cancelled = await gql(world.svc.url, `mutation($id: ID!) { cancelRun(input: { runId: $id }) { userErrors { code } } }`, { id: run.id }, TOKENS.operator);
  expect(cancelled.body.data.cancelRun.userErrors).toEqual([]);
  await expect.poll(() => responseText(page), { timeout: 15_000 }).toContain('"status": "CANCELLED"');
  await browser.screenshot(page, 'graphiql-subscription');
  expect(networkHosts(urls)).toContain('ws://127.0.0.1');
  expect(networkHosts(urls).filter((host) => !LOOPBACK.test(host))).toEqual([]);
  expect(cspViolations).toEqual([]);
  await page.close();
});

test('a wrong or missing token gets a clear message on GraphiQL and the run pages, not a blank page', async () => {
  const graphiql = await browser.open(`${world.svc.url}/`);
  await useToken(graphiql.page, 'not-a-valid-token');
  await expect.poll(() => graphiql.page.locator('.graphiql-query-editor').innerText(), { timeout: 15_000 }).not.toBe('');
  await graphiql.page.getByRole('button', { name: /execute (query|subscription)/i }).click();
  await expect.poll(() => responseText(graphiql.page), { timeout: 15_000 }).toContain('Missing or invalid bearer token');
  await graphiql.page.close();

  // The wrong token is still stored: the list and a run page say so and keep their frame.
  const { page } = await browser.open(`${world.svc.url}/runs`);
  await expect.poll(() => text(page, '#notice')).toContain('The service refused this token');
  expect(await text(page, 'main h1')).toBe('Runs');
  await browser.screenshot(page, 'runs-wrong-token');
  await page.goto(`${world.svc.url}/runs/00000000-0000-4000-8000-000000000000`);
  await expect.poll(() => text(page, '#notice')).toContain('The service refused this token');
  expect(await text(page, '#token-state')).toBe('token refused');

  // No token at all: the page asks for one; entering it shows the runs without a reload.
  await page.evaluate((key) => localStorage.removeItem(key), TOKEN_KEY);
  await page.goto(`${world.svc.url}/runs`);
  await expect.poll(() => text(page, '#notice')).toContain('No API token is set');
  await useToken(page, TOKENS.viewer);
  await expect.poll(() => page.locator('table.runs').count()).toBe(1);
  expect(await page.locator('#notice').isHidden()).toBe(true);
  await page.close();
});

test('a token the WebSocket refuses (4401) stops live updates with the same message', async () => {
  const { page } = await browser.open(`${world.svc.url}/runs`, {
    token: TOKENS.viewer,
    // HTTP gets the good token; the socket's connection_init is rewritten to carry a bad one.
    prepare: (p) =>
      p.routeWebSocket(/\/graphql$/, (socket) => {
        const server = socket.connectToServer();
        socket.onMessage((message) => {
          const parsed = JSON.parse(String(message)) as { type: string; payload?: Record<string, unknown> };
          server.send(parsed.type === 'connection_init' ? JSON.stringify({ ...parsed, payload: { authorization: 'Bearer wrong' } }) : message);
        });
      }),
  });
  await expect.poll(() => text(page, '#live')).toContain('Live updates stopped: The service refused this token');
  expect(await page.locator('table.runs').count()).toBe(1);
  await page.close();
});
