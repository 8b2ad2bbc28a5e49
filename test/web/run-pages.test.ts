import { readFile } from 'node:fs/promises';
import type { Page, Request, WebSocketRoute } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startWorking } from '../../src/jobs/runner.js';
import { SANDBOX_FEATURE, SANDBOX_REPOSITORY } from '../../src/sandbox/index.js';
import { TOKENS } from '../support/service.js';
import { startWorld, type World } from '../support/world.js';
import { ensureWebBuilt, launchBrowser, networkHosts, text, type Browser } from './browser.js';

let world: World;
let browser: Browser;
let working: { stop(): Promise<void> } | null = null;

beforeAll(async () => {
  await ensureWebBuilt();
  // Workers start inside the tests, so a page can be watching before a run moves.
  [world, browser] = await Promise.all([startWorld({ workers: false }), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await working?.stop();
  await world?.close();
});

const startWorkers = async () => {
  working ??= await startWorking(world.svc.app);
};

const ALL_SUCCEEDED = 'DISCOVER:SUCCEEDED SUBMIT:SUCCEEDED APPLY:SUCCEEDED PUBLISH:SUCCEEDED FINALIZE:SUCCEEDED';

/** The timeline as the page shows it, e.g. "DISCOVER:SUCCEEDED SUBMIT:RUNNING APPLY:PENDING …". */
const timeline = (page: Page) =>
  page.$$eval('.timeline .step', (items) => items.map((li) => `${(li as HTMLElement).dataset.step}:${(li as HTMLElement).dataset.state}`).join(' '));
const runStatus = (page: Page) => page.locator('.status-line [data-state]').getAttribute('data-state');
const shownVersions = (page: Page) => page.$$eval('table.events tbody tr', (rows) => rows.map((r) => Number((r as HTMLElement).dataset.version)));

/** Records every distinct timeline the page shows until `until` holds. */
async function watchTimeline(page: Page, until: (shown: string) => boolean, timeoutMs = 60_000): Promise<string[]> {
  const seen: string[] = [];
  for (const deadline = Date.now() + timeoutMs; ; ) {
    const shown = await timeline(page);
    if (seen.at(-1) !== shown) seen.push(shown);
    if (until(shown)) return seen;
    if (Date.now() > deadline) throw new Error(`timeline still ${shown} after ${timeoutMs} ms; seen: ${seen.join(' | ')}`);
    await page.waitForTimeout(25);
  }
}

test('the run page follows a sandbox run from QUEUED to SUCCEEDED live, without reloading', async () => {
  // Codex answers "pending" twice first, so the run spends a moment in APPLY the page can show.
  world.sandbox.codex.script({ kind: 'implement', pendingPolls: 2 });
  const { run } = await world.start();
  expect(run.status).toBe('QUEUED');

  const { page, urls, cspViolations } = await browser.open(`${world.svc.url}/runs/${run.id}`, { token: TOKENS.viewer });
  await expect.poll(() => text(page, '#live')).toMatch(/^Live/);
  expect(await runStatus(page)).toBe('QUEUED');
  expect(await timeline(page)).toBe('DISCOVER:QUEUED SUBMIT:PENDING APPLY:PENDING PUBLISH:PENDING FINALIZE:PENDING');
  expect(await text(page, '.sandbox-banner')).toContain('Sandbox run');
  expect(await page.locator('h1 .badge.sandbox').textContent()).toBe('SANDBOX');
  await browser.screenshot(page, 'run-queued');
  await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));

  await startWorkers();
  const seen = await watchTimeline(page, (shown) => shown === ALL_SUCCEEDED);
  // The steps moved one after another on screen, not in one jump.
  expect(seen.length).toBeGreaterThanOrEqual(4);
  expect(seen.some((s) => s.startsWith('DISCOVER:SUCCEEDED') && !s.includes('FINALIZE:SUCCEEDED'))).toBe(true);
  expect(seen.some((s) => /APPLY:(RUNNING|WAITING)/.test(s))).toBe(true);
  await expect.poll(() => runStatus(page)).toBe('SUCCEEDED');

  const done = await world.run(run.id);
  expect(done.status).toBe('SUCCEEDED');
  expect(await page.locator('.pull-request a').getAttribute('href')).toBe(done.outputs.pullRequestUrl);
  expect(done.outputs.pullRequestUrl).toMatch(/\/pull\/\d+$/);
  await expect.poll(() => shownVersions(page)).toEqual(Array.from({ length: done.version }, (_, i) => i + 1));
  expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
  await browser.screenshot(page, 'run-succeeded');

  // A stored artifact downloads through fetch with the token in a header, never in a URL.
  const patch = done.artifacts.find((a: { kind: string }) => a.kind === 'PATCH');
  const asked: Request[] = [];
  page.on('request', (request) => request.url().includes('/artifacts/') && asked.push(request));
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download patch' }).click()]);
  const saved = await readFile((await download.path())!, 'utf8');
  const direct = await fetch(`${world.svc.url}${patch.url}`, { headers: { authorization: `Bearer ${TOKENS.viewer}` } });
  expect(saved).toBe(await direct.text());
  expect(saved).toContain('diff --git');
  expect(download.suggestedFilename()).toMatch(/\.(patch|diff)$/);
  expect(asked.map((r) => [new URL(r.url()).pathname, r.headers().authorization])).toEqual([[patch.url, `Bearer ${TOKENS.viewer}`]]);
  expect(urls.filter((u) => u.href.includes(TOKENS.viewer))).toEqual([]);
  expect(networkHosts(urls)).toEqual(['http://127.0.0.1', 'ws://127.0.0.1']);
  expect(cspViolations).toEqual([]);
  await page.close();
});

test('after a dropped socket the page subscribes again from the last version it showed and misses nothing', async () => {
  await startWorkers();
  world.sandbox.codex.script({ kind: 'implement', pendingPolls: 4 });
  // Phase 1 of 001-greeting is in review since the first test: another feature of the demo repository.
  const { run } = await world.start({ featureId: '002-pricing' });
  const sockets: WebSocketRoute[] = [];
  // The afterVersion of each subscribe message, by the socket it went out on (0: the first socket).
  const subscribed: { socket: number; afterVersion: number }[] = [];
  const { page } = await browser.open(`${world.svc.url}/runs/${run.id}`, {
    token: TOKENS.viewer,
    prepare: (p) =>
      p.routeWebSocket(/\/graphql$/, (socket) => {
        const server = socket.connectToServer();
        const index = sockets.push(socket) - 1;
        socket.onMessage((message) => {
          const parsed = JSON.parse(String(message)) as { type: string; payload?: { variables?: { afterVersion: number } } };
          if (parsed.type === 'subscribe') subscribed.push({ socket: index, afterVersion: parsed.payload!.variables!.afterVersion });
          server.send(message);
        });
      }),
  });
  await watchTimeline(page, (shown) => /APPLY:(RUNNING|WAITING)/.test(shown));
  await sockets[0]!.close({ code: 1012, reason: 'dropped by the test' });
  // The page says it lost the connection and from which event it will resume.
  await expect.poll(() => text(page, '#live'), { interval: 20 }).toMatch(/Connection lost .*resuming after event \d+/);
  const resumeFrom = Number(/resuming after event (\d+)/.exec(await text(page, '#live'))![1]);
  expect((await shownVersions(page)).at(-1)).toBe(resumeFrom);

  await watchTimeline(page, (shown) => shown === ALL_SUCCEEDED);
  // After the drop the page subscribed once more, on a new socket, from the last version it showed.
  expect(subscribed.filter((s) => s.socket > 0)).toEqual([{ socket: 1, afterVersion: resumeFrom }]);
  const done = await world.run(run.id);
  // Every event exactly once, in order, though some happened while the page was disconnected.
  await expect.poll(() => shownVersions(page)).toEqual(Array.from({ length: done.version }, (_, i) => i + 1));
  expect(done.version).toBeGreaterThan(resumeFrom);
  expect(await text(page, '#live')).toMatch(/^Live/);
  await page.close();
});

test('a failed run shows code, remediation and retry advice; RESTART asks first, then opens the new run', async () => {
  await startWorkers();
  world.sandbox.codex.script({ kind: 'no-diff', message: 'Should the greeting use the full name or the first name?' });
  const { run } = await world.start({ featureId: '003-search' });
  const failed = await world.waitFor(run.id);
  expect(failed.status).toBe('FAILED');
  expect(failed.failure.code).toBe('NO_DIFF');

  const { page } = await browser.open(`${world.svc.url}/runs/${run.id}`, { token: TOKENS.operator });
  await expect.poll(() => text(page, '.failure .failure-code')).toBe('NO_DIFF');
  expect(await text(page, '.failure .remediation')).toBe(failed.failure.remediation);
  expect(await text(page, '.failure .failure-message')).toContain('Should the greeting use the full name');
  expect(await text(page, '.failure .retry-advice')).toBe(failed.failure.retryAdvice);
  expect(await page.locator('[data-step="APPLY"]').getAttribute('data-state')).toBe('FAILED');
  const resume = page.getByRole('button', { name: /^RESUME/ });
  const restart = page.getByRole('button', { name: /^RESTART/ });
  expect(await resume.count()).toBe(failed.failure.retryModes.includes('RESUME') ? 1 : 0);
  expect(await restart.count()).toBe(1);
  expect(await page.getByRole('button', { name: 'Cancel run' }).count()).toBe(0);
  await browser.screenshot(page, 'run-failed');

  // Declining the confirmation starts nothing.
  const dialogs: string[] = [];
  page.once('dialog', (dialog) => void (dialogs.push(dialog.message()), dialog.dismiss()));
  await restart.click();
  await expect.poll(() => dialogs.length).toBe(1);
  expect(dialogs[0]).toMatch(/new run .*new Codex task/);
  const before = world.codexTasksCreated();
  expect(new URL(page.url()).pathname).toBe(`/runs/${run.id}`);

  page.once('dialog', (dialog) => void dialog.accept());
  await restart.click();
  await page.waitForURL((url) => url.pathname !== `/runs/${run.id}`);
  const newId = decodeURIComponent(new URL(page.url()).pathname.split('/')[2]!);
  const restarted = await world.run(newId);
  expect(restarted.retryOf).toBe(run.id);
  await expect.poll(() => page.locator('.facts a.run-id').getAttribute('href')).toBe(`/runs/${run.id}`);
  await watchTimeline(page, (shown) => shown === ALL_SUCCEEDED);
  expect(world.codexTasksCreated()).toBe(before + 1);
  await page.close();
});

test('a viewer token is told the retry needs the operator role', async () => {
  await startWorkers();
  world.sandbox.codex.script({ kind: 'no-diff' });
  // Phase 2 of 001-greeting, on top of Phase 1 (in review since the first test).
  const { run } = await world.start({ stack: true });
  expect((await world.waitFor(run.id)).failure.code).toBe('NO_DIFF');
  const { page } = await browser.open(`${world.svc.url}/runs/${run.id}`, { token: TOKENS.viewer });
  page.once('dialog', (dialog) => void dialog.accept());
  await page.getByRole('button', { name: /^RESTART/ }).click();
  await expect.poll(() => text(page, '.action-output')).toContain('needs the operator role');
  expect(new URL(page.url()).pathname).toBe(`/runs/${run.id}`);
  await page.close();
});

test('the runs list shows runs newest first, starts a run from the form, reports userErrors, and updates live', async () => {
  await startWorkers();
  const { page, urls, cspViolations } = await browser.open(`${world.svc.url}/runs`, { token: TOKENS.operator });
  await expect.poll(() => text(page, '#live')).toMatch(/^Live/);
  const listed = () => page.$$eval('table.runs tbody tr', (rows) => rows.map((r) => (r as HTMLElement).dataset.run));
  const api = await world.svc.app.ds.query('SELECT id FROM spec_workflow_run ORDER BY created_at DESC, id DESC');
  expect(api.length).toBeGreaterThan(0);
  expect(await listed()).toEqual(api.map((r: { id: string }) => r.id));
  await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));

  // A bad repository comes back as a userError naming the field.
  await page.getByLabel('Repository').fill('not a repository');
  await page.getByRole('button', { name: 'Start the next phase' }).click();
  await expect.poll(() => text(page, '.start .user-errors')).toContain('INVALID_REPOSITORY (repository)');

  await page.getByLabel('Repository').fill(SANDBOX_REPOSITORY);
  await page.getByLabel('Feature id (optional)').fill(SANDBOX_FEATURE);
  // Phase 1 is in review: stacked, Phase 2 runs on top of it.
  await page.getByLabel('Stack on the newest phase in review').check();
  expect(await page.getByLabel('Credential set').inputValue()).toBe(world.credentialSetId);
  await page.getByRole('button', { name: 'Start the next phase' }).click();
  await expect.poll(() => text(page, '.start .action-output')).toMatch(/^Run started/);
  const newId = (await page.locator('.start .action-output a').getAttribute('href'))!.split('/').at(-1)!;
  // The new run appears on top, then its row follows it to the end, all without reloading.
  await expect.poll(async () => (await listed())[0]).toBe(newId);
  await expect.poll(() => page.locator(`tr[data-run="${newId}"]`).getAttribute('data-status'), { timeout: 60_000 }).toBe('SUCCEEDED');
  expect(await page.locator(`tr[data-run="${newId}"] a[href*="/pull/"]`).count()).toBe(1);
  expect(await world.run(newId)).toMatchObject({ phase: { id: '2' } });
  expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
  await browser.screenshot(page, 'runs-list');
  expect(networkHosts(urls)).toEqual(['http://127.0.0.1', 'ws://127.0.0.1']);
  expect(cspViolations).toEqual([]);
  await page.close();
});

test('a run IN_REVIEW says what to do next: stacking and revising with notes start from its page; a NO_DIFF is answered with notes', async () => {
  await startWorkers();
  const inReview = await world.waitFor((await world.start()).run.id);
  expect(inReview.status).toBe('IN_REVIEW');
  const { page } = await browser.open(`${world.svc.url}/runs/${inReview.id}`, { token: TOKENS.operator });
  await expect.poll(() => runStatus(page)).toBe('IN_REVIEW');
  expect(await page.locator('section.review').isVisible()).toBe(true);
  expect(await text(page, '.review h2')).toBe('◎ Phase 1 is in review');
  expect(await page.locator('.review a', { hasText: `pull request #${inReview.outputs.pullRequestNumber}` }).first().getAttribute('href')).toBe(inReview.outputs.pullRequestUrl);
  expect(await text(page, '.review .next-steps')).toContain('Review and merge');
  await browser.screenshot(page, 'run-in-review');

  // Stacked from the page: Phase 2 is in review since the form test, so Phase 3 goes on top of it.
  await page.getByRole('button', { name: 'Start the next phase stacked' }).click();
  await page.waitForURL((url) => url.pathname !== `/runs/${inReview.id}`);
  await watchTimeline(page, (shown) => shown === ALL_SUCCEEDED);
  const stacked = await world.run(decodeURIComponent(new URL(page.url()).pathname.split('/')[2]!));
  expect(stacked.phase.id).toBe('3');
  await expect.poll(() => text(page, '.facts')).toContain(`(Phase 2), on #${inReview.outputs.pullRequestNumber} (Phase 1)`);

  // Revised with notes from the page: one more commit on pull request #1.
  await page.goto(`${world.svc.url}/runs/${inReview.id}`);
  const notes = 'Name the folder src/greetings instead.';
  await page.getByLabel('Notes for Codex').fill(notes);
  await page.getByRole('button', { name: `Revise pull request #${inReview.outputs.pullRequestNumber} with these notes` }).click();
  await page.waitForURL((url) => url.pathname !== `/runs/${inReview.id}`);
  await watchTimeline(page, (shown) => shown === ALL_SUCCEEDED);
  expect(await text(page, '.facts')).toContain(`pull request #${inReview.outputs.pullRequestNumber}`);
  expect(await text(page, '.facts span.notes')).toBe(notes);
  await expect.poll(() => text(page, '[data-step="SUBMIT"] blockquote.notes')).toBe(`Operator notes: ${notes}`);

  // Codex asks a question; the answer goes back through the failure panel as the same run.
  world.sandbox.codex.script({ kind: 'no-diff', message: 'Should the README mention the folder?' });
  const asked = await world.waitFor((await world.start({ stack: true })).run.id);
  expect(asked.failure.code).toBe('NO_DIFF');
  await page.goto(`${world.svc.url}/runs/${asked.id}`);
  await expect.poll(() => text(page, '.failure .failure-code')).toBe('NO_DIFF');
  const answer = 'Yes, one line under Usage.';
  await page.getByLabel('Your answer for Codex (its message is above)').fill(answer);
  await page.getByRole('button', { name: 'RESUME with these notes' }).click();
  await watchTimeline(page, (shown) => shown === ALL_SUCCEEDED);
  await expect.poll(() => text(page, '[data-step="SUBMIT"] blockquote.notes')).toBe(`Operator notes: ${answer}`);
  expect(new URL(page.url()).pathname).toBe(`/runs/${asked.id}`);
  const done = await world.run(asked.id);
  expect(done.status).toBe('SUCCEEDED');
  await page.close();
});

test('a run id that names no run says so', async () => {
  const { page } = await browser.open(`${world.svc.url}/runs/00000000-0000-4000-8000-000000000000`, { token: TOKENS.viewer });
  await expect.poll(() => text(page, 'main h1')).toBe('Run not found');
  expect(await page.locator('main a[href="/runs"]').count()).toBe(1);
  await page.goto(`${world.svc.url}/runs/not-a-run-id`);
  await expect.poll(() => text(page, 'main p')).toContain('No run has the id not-a-run-id');
  await page.close();
});
