/**
 * GET /docs: the API reference rendered by Redoc from the served OpenAPI document, in headless
 * Chromium. Self-contained (no request leaves the API's origin), under a strict CSP (no inline script,
 * no other origin), and it shows every route with a filter parameter of each dataset.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { stackFactory } from './helpers/stacks.ts';
import { browserSkipReason, launchChromium } from './support/browser.ts';

const skipReason = browserSkipReason;
if (skipReason) console.warn(`API reference browser test skipped: ${skipReason}`);

const stacks = stackFactory('docs');
afterAll(() => stacks.stopAll());

describe('the API reference page', () => {
  it('is served with a strict CSP and only same-origin scripts', async () => {
    const s = await stacks.start('docs-headers');
    const res = await fetch(`${s.apiUrl}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/script-src 'self';/);
    expect(csp).not.toMatch(/https?:|\*|unsafe-eval/);
    const html = await res.text();
    expect(html).not.toMatch(/<script>(?!<\/script>)|https?:\/\//);
    const bundle = await fetch(`${s.apiUrl}/docs/redoc.standalone.js`);
    expect(bundle.status).toBe(200);
    expect((await bundle.text()).length).toBeGreaterThan(100_000);
  });

  it.skipIf(skipReason !== null)(
    'renders every route and a filter parameter of each dataset in Chromium',
    async () => {
      const s = await stacks.start('docs-browser');
      const doc = (await (await fetch(`${s.apiUrl}/openapi.json`)).json()) as {
        paths: Record<string, unknown>;
      };
      const browser = await launchChromium();
      try {
        const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
        const external: string[] = [];
        const errors: string[] = [];
        page.on('request', (r) => {
          if (!r.url().startsWith(s.apiUrl)) external.push(r.url());
        });
        page.on('pageerror', (e) => errors.push(String(e)));
        page.on('console', (m) => {
          if (m.type() === 'error') errors.push(m.text());
        });
        await page.goto(`${s.apiUrl}/docs`);
        await page.waitForSelector('.api-content', { timeout: 20_000 });
        const text = (await page.textContent('body')) ?? '';
        for (const path of Object.keys(doc.paths)) expect(text, path).toContain(path);
        for (const [name, schema] of s.app.schemas) {
          expect(text, name).toContain(`/v1/${name}`);
          expect(text, `${name}: a dimension filter`).toContain(schema.dimensions[0]!);
          expect(text, `${name}: a range filter`).toContain(`${schema.time.field}.gte`);
        }
        expect(errors).toEqual([]);
        expect(external).toEqual([]);
      } finally {
        await browser.close();
      }
    },
    90_000,
  );
});
