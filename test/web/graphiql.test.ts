import { afterAll, beforeAll, expect, test } from 'vitest';
import { gql, TOKENS } from '../support/service.js';
import { startWorld, type World } from '../support/world.js';
import { ensureWebBuilt, launchBrowser, networkHosts, useToken, type Browser } from './browser.js';

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
const responseText = async (page: import('playwright-core').Page) =>
  (await page.locator('.graphiql-response').innerText()).replace(/\u00a0/g, ' ');

test('GraphiQL renders from loopback only and runs the default query with the token', async () => {
  const { page, urls } = await browser.open(`${world.svc.url}/`);
  await useToken(page, TOKENS.viewer);
  await expect.poll(() => page.locator('.graphiql-query-editor').innerText(), { timeout: 15_000 }).toContain('totalCount');
  await page.getByRole('button', { name: /execute query/i }).click();
  await expect.poll(() => responseText(page), { timeout: 15_000 }).toContain('"totalCount": 0');
  await browser.screenshot(page, 'graphiql-default-query');
  // The page, its scripts, styles, fonts and editor workers, and the API: all from the service itself.
  expect(urls.length).toBeGreaterThan(5);
  expect(networkHosts(urls)).toContain('http://127.0.0.1');
  expect(networkHosts(urls).filter((host) => !LOOPBACK.test(host))).toEqual([]);
  await page.close();
});

test('a subscription runs from GraphiQL over the WebSocket with the token and shows live events', async () => {
  const { run } = await world.start();
  const query = `subscription Watch($runId: ID!) { runUpdated(runId: $runId, afterVersion: 0) { version event { to } run { status } } }`;
  const link = `${world.svc.url}/?${new URLSearchParams({ query, variables: JSON.stringify({ runId: run.id }) })}`;
  const { page, urls } = await browser.open(link);
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
  await page.close();
});
