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

/** The response pane's text: Monaco draws spaces as no-break spaces. */
const responseText = async (page: import('playwright-core').Page) =>
  (await page.locator('.graphiql-response').innerText()).replace(/\u00a0/g, ' ');

test('GraphiQL renders from loopback only and runs the default query with the token', async () => {
  const { page, urls } = await browser.open(`${world.svc.url}/`);
  await useToken(page, TOKENS.viewer);
  await page.getByRole('button', { name: /execute query/i }).click();
  await expect.poll(() => responseText(page), { timeout: 15_000 }).toContain('"totalCount": 0');
  await browser.screenshot(page, 'graphiql-default-query');
  expect(urls.length).toBeGreaterThan(5);
  expect(networkHosts(urls)).toEqual(['http://127.0.0.1', 'ws://127.0.0.1'].filter((h) => networkHosts(urls).includes(h)));
  expect(networkHosts(urls)).toContain('http://127.0.0.1');
  await page.close();
});
