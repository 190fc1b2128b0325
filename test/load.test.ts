import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_OPERATIONS, expectStatus, type Operation, runWorkload } from '../bench/workload.ts';
import { encodePushEnvelope } from '../src/core/delivery.ts';
import { freePort } from '../support/proc.ts';
import { ROOT } from '../support/root.ts';
import { type ServeProcess, startServe } from '../support/serve.ts';

// The short version of `npm run load`: the same workload for a few seconds at a modest rate.
describe('load and soak generator', () => {
  const cleanups: Array<() => unknown> = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('runs publish and every consumer operation against its own stack with no errors, exactly once', async () => {
    const durationS = 8;
    const rate = 150;
    const report = await runWorkload({ durationS, rate, consumers: 4, inFlight: 256 });

    expect(report.failures).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.target.ownStack).toBe(true);
    const soak = report.soak!;
    for (const op of DEFAULT_OPERATIONS) {
      const o = soak.operations[op.name]!;
      expect(o.count, op.name).toBeGreaterThanOrEqual(5);
      expect(o.errors, op.name).toBe(0);
      expect(o.p99Ms, op.name).toBeGreaterThan(0);
    }
    const p = soak.publish;
    expect(p.status429 + p.status5xx + p.transportErrors + p.failed + p.unsent).toBe(0);
    expect(p.acked).toBe(p.sent);
    expect(p.acked).toBeGreaterThanOrEqual(Math.floor(rate * durationS * 0.97));
    // Exactly once: every acknowledged message is one row, and nothing else was stored.
    expect(report.exactlyOnce).toEqual({ baseline: 0, stored: p.acked, acked: p.acked, equal: true });
    // One RSS sample per second of the soak, and a trend computed from them.
    const rss = report.samples.filter((s) => s[1] === 'soak' && s[2] !== null);
    expect(rss.length).toBeGreaterThanOrEqual(durationS - 2);
    expect(report.memory!.samples).toBe(rss.length);
    expect(report.memory!.firstMinuteMedianMb).toBeGreaterThan(10);
    expect(report.memory!.slopeMbPerMin).not.toBeNull();
  });

  it('flags operation errors and rows stored that nobody acknowledged to it', async () => {
    const db = mkdtempSync(join(tmpdir(), 'ducto-load-test-'));
    cleanups.push(() => rmSync(db, { recursive: true, force: true }));
    const serve: ServeProcess = await startServe({
      args: ['--pubsub=direct', '--no-seed', '--db', join(db, 'x.duckdb')],
    });
    cleanups.push(() => serve.stop());

    // A consumer operation that asks for a dataset that does not exist: 404 every time.
    const badRoute: Operation = {
      name: 'bad-route',
      weight: 10,
      run: async (ctx) => {
        expectStatus(await ctx.get('/v1/no_such_dataset?limit=1'));
        return true;
      },
    };
    // Someone else writes one event while the run is on: stored = acknowledged + 1.
    const intruder = (async () => {
      await new Promise((r) => setTimeout(r, 1500));
      const body = encodePushEnvelope(
        JSON.stringify({
          date: '2001/01/02 10:00',
          delay: 5,
          distance: 300,
          origin: 'LAX',
          destination: 'SFO',
        }),
        `intruder-${Date.now()}`,
        { dataset: 'flights', event_id: `intruder-${Date.now()}` },
      );
      const r = await fetch(serve.ingestUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect(r.status).toBe(204);
    })();
    const report = await runWorkload({
      durationS: 3,
      rate: 50,
      consumers: 2,
      inFlight: 16,
      apiUrl: serve.apiUrl,
      ingestUrl: serve.ingestUrl,
      operations: [...DEFAULT_OPERATIONS, badRoute],
    });
    await intruder;

    expect(report.ok).toBe(false);
    expect(report.target.ownStack).toBe(false);
    const bad = report.soak!.operations['bad-route']!;
    expect(bad.count).toBeGreaterThan(0);
    expect(bad.errorsBy).toEqual({ '404 not_found': bad.count });
    expect(report.failures.some((f) => f.startsWith('bad-route:') && f.includes('404 not_found'))).toBe(true);
    const once = report.exactlyOnce!;
    expect(once.equal).toBe(false);
    expect(once.stored).toBe(once.acked + 1);
    expect(report.failures).toContain(
      `exactly once: ${once.stored} rows stored for ${once.acked} messages acknowledged`,
    );
    // The other operations were unaffected.
    for (const op of DEFAULT_OPERATIONS) expect(report.soak!.operations[op.name]!.errors, op.name).toBe(0);
  });

  it('refuses targets off loopback, and the command exits non-zero when the stack is unreachable', async () => {
    await expect(
      runWorkload({
        durationS: 1,
        rate: 1,
        consumers: 1,
        inFlight: 1,
        apiUrl: 'http://192.0.2.10:8080',
        ingestUrl: 'http://127.0.0.1:8081',
      }),
    ).rejects.toThrow(/--url http:\/\/192\.0\.2\.10:8080 is not a loopback/);

    const cli = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'bench/workload.ts', ...args], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 30_000,
      });
    const offLoopback = cli(
      '--url',
      'http://example.com',
      '--ingest-url',
      'http://127.0.0.1:1',
      '--duration',
      '1',
    );
    expect(offLoopback.status).toBe(2);
    expect(offLoopback.stderr).toMatch(/not a loopback/);

    const port = await freePort();
    const down = cli(
      '--url',
      `http://127.0.0.1:${port}`,
      '--ingest-url',
      `http://127.0.0.1:${port}`,
      '--duration',
      '1',
    );
    expect(down.status).toBe(1);
    expect(down.stdout).toMatch(/FAILED:\n {2}- run aborted: transport ECONNREFUSED/);
  });
});
