import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { flightsSample } from './helpers/api-harness.ts';
import { push } from './helpers/push-client.ts';
import { stackFactory } from './helpers/stacks.ts';
import { browserSkipReason, launchChromium } from './support/browser.ts';

const skipReason = browserSkipReason;
if (skipReason) console.warn(`dashboard browser test skipped: ${skipReason}`);

const stacks = stackFactory('dashboard');
afterAll(() => stacks.stopAll());

describe.skipIf(skipReason !== null)('live dashboard in headless chromium', () => {
  it('renders the charts and the ingest numbers move while data is published', async () => {
    const s = await stacks.start('dash', { DUCTO_CACHE_TTL_MS: '0' });

    const res = await fetch(`${s.apiUrl}/dashboard`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toMatch(/https?:/);

    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
      const external: string[] = [];
      const errors: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith(s.apiUrl)) external.push(r.url());
      });
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${s.apiUrl}/dashboard`);
      await page.waitForFunction(() => Number(document.body.dataset.polls ?? 0) >= 2, undefined, {
        timeout: 15_000,
      });
      const before = Number(await page.textContent('#stored-total'));

      const records = flightsSample(200);
      let i = 0;
      for (const r of records) {
        const id = `dash-${i++}`;
        expect(
          await push(`${s.ingestUrl}/`, JSON.stringify(r), id, { event_id: id, dataset: 'flights' }),
        ).toBe(204);
      }
      // Some API traffic too, so the API charts have something to show.
      for (let k = 0; k < 5; k++) await fetch(`${s.apiUrl}/healthz`).catch(() => {});

      await page.waitForFunction(
        (want) => Number(document.getElementById('stored-total')?.textContent ?? 0) >= want,
        before + records.length,
        { timeout: 15_000 },
      );
      const after = Number(await page.textContent('#stored-total'));
      expect(after).toBeGreaterThan(before);
      expect(after).toBeGreaterThanOrEqual(before + records.length);
      // A couple more polls so the rate and latency series pick the burst up.
      const polls = Number(await page.getAttribute('body', 'data-polls'));
      await page.waitForFunction((p) => Number(document.body.dataset.polls ?? 0) >= p + 2, polls, {
        timeout: 10_000,
      });

      const charts = await page.$$eval('canvas.chart', (cs) =>
        cs.map((c) => ({ id: c.id, points: Number(c.getAttribute('data-points')) })),
      );
      expect(charts.map((c) => c.id)).toEqual([
        'chart-ingest-rate',
        'chart-e2e-latency',
        'chart-api-rate',
        'chart-api-latency',
        'chart-api-errors',
        'chart-freshness',
        'chart-cache-hit',
      ]);
      for (const id of ['chart-ingest-rate', 'chart-e2e-latency', 'chart-api-rate', 'chart-freshness']) {
        expect(charts.find((c) => c.id === id)?.points, id).toBeGreaterThan(0);
      }
      // The canvas really has pixels drawn on it (not just the attribute).
      const painted = await page.$eval('#chart-ingest-rate', (c) => {
        const cv = c as HTMLCanvasElement;
        const data = cv.getContext('2d')?.getImageData(0, 0, cv.width, cv.height).data ?? [];
        let n = 0;
        for (let j = 3; j < data.length; j += 4) if ((data[j] ?? 0) > 0) n++;
        return n;
      });
      expect(painted).toBeGreaterThan(100);
      const legend = await page.textContent('#legend-ingest-rate');
      expect(legend).toContain('stored');
      const e2e = await page.textContent('#legend-e2e-latency');
      expect(e2e).toMatch(/p99: \d/);

      expect(errors).toEqual([]);
      expect(external).toEqual([]);

      const shotDir = mkdtempSync(join(tmpdir(), 'ducto-dashboard-shot-'));
      const shot = join(shotDir, 'dashboard.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(existsSync(shot)).toBe(true);
      console.log(`dashboard screenshot: ${shot}`);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
