import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { api, createTestStore, FIXTURES, startTestDaemon, token, waitFor, type TestDaemon, type TestStore } from '../support/daemon.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
// The README's screenshots come from this test: `UPDATE_SCREENSHOTS=1 npm test` rewrites docs/images;
// any other run writes them to a temporary folder, so a test run leaves the working tree as it was.
const IMAGES = process.env.UPDATE_SCREENSHOTS ? 'docs/images' : join(tmpdir(), 'cw-dashboard-screenshots');
const alice = token('alice', ['user']);
const ops = token('ops', ['admin']);
const bob = token('bob', ['user']);

describe('the dashboard in a real browser', () => {
  let store: TestStore;
  let daemon: TestDaemon;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    await mkdir(IMAGES, { recursive: true });
    store = await createTestStore('pglite');
    daemon = await startTestDaemon(store, `
pipelines:
  steps:
    command: ["node", "${FIXTURES}/progress.mjs", "12", "400"]
  interleave:
    command: ["${FIXTURES}/interleave.sh"]
  sleepy:
    command: ["${FIXTURES}/sleep.sh", "30"]
    killGrace: 1s
  outcome:
    command: ["node", "-e", "const p = JSON.parse(process.env.JOB_INPUT); setTimeout(() => process.exit(p.exit), p.ms)"]
  second-try:
    command: ["${FIXTURES}/second-try.sh"]
    retries: { max: 1, backoff: 0s }
jobs:
  nightly-backup: { pipeline: steps, cron: "0 3 * * *", timezone: Europe/Berlin }
`);
    for (const body of [{ id: 'slow-report', name: 'Slow report', pipeline: 'steps', every: '5h', overlap: 'allow' },
      { id: 'chatty', name: 'Both streams', pipeline: 'interleave', every: '1h30m' },
      { id: 'sleeper', name: 'Sleeps until cancelled', pipeline: 'sleepy', cron: '*/15 * * * *' },
      { id: 'mixed', name: 'Sometimes fails', pipeline: 'outcome', cron: '0 */6 * * *', overlap: 'allow', params: { exit: 0, ms: 100 } }]) {
      expect((await api(daemon, 'POST', '/api/cron/jobs', { token: alice, body })).status).toBe(201);
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    // The form test provokes a 400 on purpose; Chromium logs every failed request as an error.
    page.on('console', (message) => { if (message.type() === 'error' && !message.text().includes('status of 400')) problems.push(`console: ${message.text()}`); });
  });
  afterAll(async () => {
    await browser?.close();
    await daemon?.close();
    await store?.dispose();
  });

  const runOf = async (id: string) => (await api(daemon, 'GET', `/api/cron/runs/${id}`, { token: alice })).body;
  const jobOf = async (id: string) => (await api(daemon, 'GET', `/api/cron/jobs/${id}`, { token: alice })).body;
  const confirm = async (note?: string) => {
    if (note !== undefined) await page.fill('#confirm-note', note);
    await page.click('#confirm-ok');
  };
  /** Waits until the element shows the text (15 s: a run's whole output may be needed). */
  const showing = (selector: string, text: string) => page.locator(selector).filter({ hasText: text }).waitFor({ timeout: 15_000 });
  const signIn = async (jwt: string) => {
    await page.fill('#token', jwt);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
  };

  it('serves the pages without a token, only the files it ships, under its own content security policy', async () => {
    const index = await fetch(`${daemon.url}/ui`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(index.headers.get('content-security-policy')).not.toContain('upgrade-insecure-requests');
    expect((await fetch(`${daemon.url}/ui/vendor/cronstrue.js`)).status).toBe(200);
    expect((await fetch(`${daemon.url}/ui/%2e%2e/ui.controller.ts`)).status).toBe(404);
    expect((await fetch(`${daemon.url}/ui/nope.js`)).status).toBe(404);
  });

  it('signs in with a pasted token kept in sessionStorage and lists the jobs in words', async () => {
    await page.goto(`${daemon.url}/ui`);
    await page.waitForSelector('#token');
    await page.screenshot({ path: `${IMAGES}/sign-in.png` });
    await signIn(alice);
    await page.waitForSelector('tr[data-job="slow-report"]');
    expect(page.url()).not.toContain(alice);
    expect(await page.evaluate('sessionStorage.getItem("cronwarden.token")')).toBe(alice);
    const row = (id: string) => page.textContent(`tr[data-job="${id}"]`);
    expect(await row('slow-report')).toContain('every 5 hours');
    expect(await row('chatty')).toContain('every 1 hour 30 minutes');
    expect(await row('nightly-backup')).toContain('At 03:00 Europe/Berlin');
    expect(await row('sleeper')).toMatch(/Every 15 minutes/);
    expect(await row('slow-report')).toMatch(/in \d+ h \d+ min/);
    expect(await page.isHidden('#nav-nodes')).toBe(true);
    await page.screenshot({ path: `${IMAGES}/jobs.png` });
  });

  it('pauses a job with a note and resumes it, each after a confirmation', async () => {
    await page.click('[aria-label="Pause slow-report"]');
    await confirm('holiday freeze');
    await page.waitForSelector('tr[data-job="slow-report"] .note');
    expect(await page.textContent('tr[data-job="slow-report"]')).toContain('holiday freeze');
    expect(await jobOf('slow-report')).toMatchObject({ paused: true, pauseNote: 'holiday freeze', pausedBy: 'alice' });
    await page.selectOption('#filter-paused', 'true');
    await waitFor(async () => (await page.locator('table.jobs tbody tr').count()) === 1, 5_000, 'only the paused job listed');
    await page.selectOption('#filter-paused', '');
    await waitFor(async () => (await page.locator('table.jobs tbody tr').count()) === 5, 5_000, 'every job listed again');

    await page.click('[aria-label="Resume slow-report"]');
    await page.click('#confirm dialog button[value="cancel"], #confirm button[value="cancel"]');
    expect((await jobOf('slow-report')).paused).toBe(true);
    await page.click('[aria-label="Resume slow-report"]');
    await confirm();
    await page.waitForSelector('[aria-label="Pause slow-report"]');
    expect((await jobOf('slow-report')).paused).toBe(false);
  });

  it('triggers a job and shows its output live, then its final status', async () => {
    await page.click('[aria-label="Trigger slow-report"]');
    await confirm();
    await page.waitForURL(/#\/runs\//);
    const runId = page.url().split('#/runs/')[1];
    await showing('#output', 'step 2/12');
    // The second line arrived while the run still ran: the page got it from the stream, not at the end.
    expect((await runOf(runId)).status).toBe('running');
    expect(await page.isVisible('#cancel-run')).toBe(true);
    await page.screenshot({ path: `${IMAGES}/run.png` });
    await showing('#final', 'succeeded');
    expect(await page.textContent('#output')).toContain('step 12/12');
    expect(await page.textContent('#final')).toContain('exit 0');
    expect(await page.isHidden('#cancel-run')).toBe(true);
  });

  it('links a failed run to its retry, and the retry back to it', async () => {
    expect((await api(daemon, 'POST', '/api/cron/jobs', { token: ops, body: { id: 'flaky', pipeline: 'second-try', every: '5h', owner: 'alice' } })).status).toBe(201);
    try {
      const first = (await api(daemon, 'POST', '/api/cron/jobs/flaky/trigger', { token: alice, body: {} })).body;
      await page.goto(`${daemon.url}/ui#/runs/${first.id}`);
      await showing('#final', 'failed');
      await page.waitForSelector('#retry-run');
      const retryId = (await runOf(first.id)).retryRunId as string;
      expect(await page.getAttribute('#retry-run', 'href')).toBe(`#/runs/${retryId}`);
      await page.click('#retry-run');
      await showing('#final', 'succeeded');
      expect(await page.getAttribute('#parent-run', 'href')).toBe(`#/runs/${first.id}`);
      expect(await page.textContent('#view')).toContain('Retry of');
    } finally {
      await api(daemon, 'DELETE', '/api/cron/jobs/flaky', { token: ops });
    }
  });

  it('tells stdout and stderr apart', async () => {
    const queued = await api(daemon, 'POST', '/api/cron/jobs/chatty/trigger', { token: alice, body: {} });
    await page.goto(`${daemon.url}/ui#/runs/${queued.body.id}`);
    await showing('#final', 'succeeded');
    expect(await page.locator('#output .stderr').allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining('err 1')]));
    expect((await page.locator('#output .stderr').allTextContents()).join('')).not.toContain('out 1');
    expect((await page.locator('#output .stdout').allTextContents()).join('')).toContain('out 1');
  });

  it('cancels a running run with a reason', async () => {
    await page.goto(`${daemon.url}/ui#/jobs`);
    await page.click('[aria-label="Trigger sleeper"]');
    await confirm();
    await showing('#output', 'ready');
    const runId = page.url().split('#/runs/')[1];
    await page.click('#cancel-run');
    await confirm('wrong input');
    await showing('#final', 'cancelled');
    const run = await waitFor(async () => { const body = await runOf(runId); return body.status === 'cancelled' && body; }, 5_000, 'the run to be cancelled');
    expect(run.cancelRequestedBy).toBe('alice');
    expect(await page.textContent('#view')).toContain('Cancelled by');
  });

  it("shows a job's run history with a chart of its runs' durations and outcomes", async () => {
    const runs = [{ exit: 0, ms: 200 }, { exit: 1, ms: 600 }, { exit: 0, ms: 300 }, { exit: 0, ms: 900 }, { exit: 2, ms: 100 }, { exit: 0, ms: 400 }];
    for (const params of runs) expect((await api(daemon, 'POST', '/api/cron/jobs/mixed/trigger', { token: alice, body: { params } })).status).toBe(202);
    await waitFor(async () => {
      const page = (await api(daemon, 'GET', '/api/cron/jobs/mixed/runs', { token: alice })).body;
      return page.items.every((run: { status: string }) => !['queued', 'running'].includes(run.status));
    }, 15_000, 'the runs of mixed to end');
    await page.goto(`${daemon.url}/ui#/jobs/mixed`);
    await waitFor(async () => (await page.locator('table.runs tbody tr').count()) === 6, 10_000, 'six runs in the history');
    expect(await page.locator('svg.chart rect.status-succeeded').count()).toBe(4);
    expect(await page.locator('svg.chart rect.status-failed').count()).toBe(2);
    expect(await page.textContent('table.runs tbody')).toContain('manual');
    expect(await page.textContent('.facts')).toContain('67 %');
    await page.screenshot({ path: `${IMAGES}/job.png`, fullPage: true });
  });

  it('shows the create form with the API validation messages beside their fields', async () => {
    await page.goto(`${daemon.url}/ui#/jobs/new`);
    await page.waitForSelector('#field-cron');
    await page.fill('#field-name', 'Broken');
    await page.fill('#field-cron', '61 * * * *');
    await page.click('form.job-form button[type="submit"]');
    await showing('#error-cron', 'cron');
    await page.screenshot({ path: `${IMAGES}/job-form.png`, fullPage: true });
    await page.fill('#field-cron', '');
    await page.fill('#field-every', '45m');
    await page.click('form.job-form button[type="submit"]');
    await page.waitForURL(/#\/jobs\/broken/);
    expect((await jobOf(page.url().split('#/jobs/')[1])).every).toBe('45m');
  });

  it('shows the nodes to an admin, and a phone-sized jobs list', async () => {
    await page.click('#sign-out');
    await signIn(ops);
    await page.waitForSelector('#nav-nodes:not([hidden])');
    const sleeping = (await api(daemon, 'POST', '/api/cron/jobs/sleeper/trigger', { token: ops, body: {} })).body;
    await waitFor(async () => (await runOf(sleeping.id)).status === 'running', 10_000, 'the sleeper to run');
    await page.click('#nav-nodes');
    await page.waitForSelector('table.nodes tbody tr');
    expect(await page.textContent('table.nodes tbody')).toContain('alive');
    // The sleeper's own schedule (every 15 minutes) may have started another run meanwhile: look for this one.
    const links = await page.locator('table.nodes tbody a').evaluateAll((anchors) => anchors.map((a) => a.getAttribute('href')));
    expect(links).toContain(`#/runs/${sleeping.id}`);
    await page.screenshot({ path: `${IMAGES}/nodes.png` });
    expect((await api(daemon, 'POST', `/api/cron/runs/${sleeping.id}/cancel`, { token: ops, body: {} })).status).toBe(202);

    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${daemon.url}/ui#/jobs`);
    await page.waitForSelector('tr[data-job="slow-report"]');
    const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: `${IMAGES}/jobs-phone.png` });
    expect(problems).toEqual([]);
  });

  it('lists the jobs a page of 100 at a time, with next and previous pages', async () => {
    const ids = Array.from({ length: 100 }, (_, i) => `bulk-${String(i).padStart(3, '0')}`);
    for (const id of ids) expect((await api(daemon, 'POST', '/api/cron/jobs', { token: bob, body: { id, pipeline: 'steps', every: '5h' } })).status).toBe(201);
    await page.setViewportSize({ width: 1280, height: 860 });
    await page.click('#sign-out');
    await signIn(bob);
    await page.waitForSelector('tr[data-job="bulk-099"]');
    const listed = () => page.locator('table.jobs tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-job')));
    expect(await listed()).toEqual(ids);
    expect(await page.isHidden('#page-previous')).toBe(true);
    await page.click('#page-next');
    await page.waitForSelector('tr[data-job="nightly-backup"]');
    expect(await listed()).toEqual(['nightly-backup']);
    expect(await page.textContent('.summary')).toMatch(/^1 of 1 jobs on page 2 · /);
    expect(await page.isHidden('#page-next')).toBe(true);
    await page.click('#page-previous');
    await page.waitForSelector('tr[data-job="bulk-000"]');
    expect(await page.isHidden('#page-previous')).toBe(true);
    expect(problems).toEqual([]);
  });
});
