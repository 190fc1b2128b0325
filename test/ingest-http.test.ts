import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack, StackOptions } from '../src/cli/serve.ts';
import { PUSH_BODY_LIMIT_BYTES } from '../src/core/delivery.ts';
import { loadSchemas } from '../src/core/schema-files.ts';
import { publish } from '../src/publish/publish.ts';
import { ROOT } from '../support/root.ts';
import { flightsSample } from './helpers/api-harness.ts';
import { MALFORMED } from './helpers/malformed.ts';
import { pool, push } from './helpers/push-client.ts';
import { stackFactory } from './helpers/stacks.ts';

const stacks = stackFactory('ingest');
const dir = stacks.dir;
afterAll(() => stacks.stopAll());

const stack = (name: string, env: Record<string, string> = {}, options: StackOptions = {}) =>
  stacks.start(name, { DUCTO_CACHE_TTL_MS: '0', ...env }, options);

const stats = async (s: Stack, dataset = 'flights') =>
  ((await (await fetch(`${s.apiUrl}/v1/${dataset}/stats`)).json()) as { data: Array<{ count: number }> })
    .data[0]!.count;

describe('ingest endpoint over HTTP', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await stack('main');
  });

  it('stores each message once when it is delivered three times, concurrently', async () => {
    const records = flightsSample(1000);
    const deliveries = records.flatMap((r, i) => [0, 1, 2].map(() => [r, i] as const));
    // Shuffle so copies of one message race each other on different connections.
    deliveries.sort(() => Math.random() - 0.5);
    const statuses: number[] = [];
    await pool(deliveries, 64, async ([r, i]) => {
      statuses.push(
        await push(`${s.ingestUrl}/`, JSON.stringify(r), `dup-${i}`, {
          event_id: `dup-${i}`,
          dataset: 'flights',
        }),
      );
    });
    expect(statuses.filter((x) => x !== 204)).toEqual([]);
    expect(await stats(s)).toBe(1000);
    const m = s.app.metrics.ingestMessages;
    const stored = (await m.get()).values
      .filter((v) => v.labels.outcome === 'stored')
      .reduce((a, v) => a + v.value, 0);
    const dups = (await m.get()).values
      .filter((v) => v.labels.outcome === 'duplicate')
      .reduce((a, v) => a + v.value, 0);
    expect(stored).toBe(1000);
    expect(dups).toBe(2000);
  });

  it('acknowledges malformed messages, keeps them with a reason code, and stores every valid one around them', async () => {
    const valid = flightsSample(200);
    const before = await stats(s);
    const jobs: Array<() => Promise<number>> = [];
    for (const [i, r] of valid.entries()) {
      jobs.push(() =>
        push(`${s.ingestUrl}/`, JSON.stringify(r), `ok-${i}`, { event_id: `ok-${i}`, dataset: 'flights' }),
      );
    }
    for (const [i, [, data]] of MALFORMED.entries()) {
      jobs.push(() => push(`${s.ingestUrl}/`, data, `bad-${i}`, { dataset: 'flights' }));
    }
    jobs.sort(() => Math.random() - 0.5);
    const statuses: number[] = [];
    await pool(jobs, 32, async (j) => {
      statuses.push(await j());
    });
    expect(statuses.filter((x) => x !== 204)).toEqual([]);
    expect(await stats(s)).toBe(before + valid.length);
    const rejected = await s.warehouse.rejected(s.app.schemas.get('flights')!, 1000);
    for (const [i, [kind, data, code]] of MALFORMED.entries()) {
      const row = rejected.find((r) => r.messageId === `bad-${i}`);
      expect(row, kind).toBeDefined();
      expect(row!.code, kind).toBe(code);
      // Byte for byte; an oversize one up to the limit (64 KiB).
      const expected = Buffer.from(data).subarray(0, code === 'oversize' ? 64 * 1024 : undefined);
      expect(
        Buffer.from(row!.payload ?? []).equals(expected),
        `${kind}: raw payload kept byte for byte`,
      ).toBe(true);
    }
    expect((await fetch(`${s.apiUrl}/healthz`)).status).toBe(200);
  });

  it.each([
    ['a body that is not JSON', 'POST', 'application/json', '{nope', 400, 'bad_envelope'],
    ['an envelope without message', 'POST', 'application/json', '{"subscription":"s"}', 400, 'bad_envelope'],
    ['another content type', 'POST', 'text/plain', 'hello', 415, 'unsupported_media_type'],
    ['GET', 'GET', 'application/json', null, 405, 'method_not_allowed'],
  ])('answers %s with a problem+json', async (_n, method, type, body, status, code) => {
    const r = await fetch(`${s.ingestUrl}/`, {
      method,
      headers: { 'content-type': type },
      ...(body !== null && { body }),
    });
    expect(r.status).toBe(status);
    expect(r.headers.get('content-type')).toMatch(/problem\+json/);
    expect(((await r.json()) as { code: string }).code).toBe(code);
  });

  it('acknowledges an oversize message and keeps it, truncated to the limit, as `oversize`', async () => {
    // 200 KiB of data: over DUCTO_MAX_MESSAGE_BYTES (64 KiB), far under what Pub/Sub can send. A 413
    // here would be retried by Pub/Sub until the message is dead-lettered.
    const data = JSON.stringify({ ...flightsSample(1)[0], pad: 'y'.repeat(200 * 1024) });
    expect(await push(`${s.ingestUrl}/`, data, 'big-1', { event_id: 'big-1', dataset: 'flights' })).toBe(204);
    const kept = (await s.warehouse.rejected(s.app.schemas.get('flights')!, 100)).find(
      (r) => r.messageId === 'big-1',
    );
    expect(kept?.code).toBe('oversize');
    expect(kept?.payload?.byteLength).toBe(64 * 1024);
    expect(Buffer.from(kept!.payload!).toString()).toBe(data.slice(0, 64 * 1024));
  });

  it('refuses a body larger than any Pub/Sub push with 413 and stays up', async () => {
    const r = await fetch(`${s.ingestUrl}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: 'x'.repeat(PUSH_BODY_LIMIT_BYTES + 1),
    }).catch(() => null);
    if (r) expect(r.status).toBe(413);
    expect(
      await push(`${s.ingestUrl}/`, JSON.stringify(flightsSample(1)[0]), 'after-413', {
        event_id: 'after-413',
        dataset: 'flights',
      }),
    ).toBe(204);
  });
});

describe('backpressure', () => {
  it('answers 429 with Retry-After when the warehouse is slow, instead of queueing without bound, and stores every accepted message', async () => {
    const s = await stack(
      'slow',
      { DUCTO_MAX_PENDING: '50', DUCTO_BATCH_MAX_ROWS: '25' },
      {
        wrapWarehouse: (w) => ({
          ...w,
          kind: w.kind,
          write: async (b) => {
            await new Promise((r) => setTimeout(r, 100));
            return w.write(b);
          },
        }),
      },
    );
    const records = flightsSample(400);
    const statuses = new Map<number, number>();
    const accepted: string[] = [];
    let retryAfter: string | null = null;
    await pool(
      records.map((r, i) => [r, i] as const),
      200,
      async ([r, i]) => {
        const body = JSON.stringify({
          message: {
            data: Buffer.from(JSON.stringify(r)).toString('base64'),
            messageId: `bp-${i}`,
            attributes: { event_id: `bp-${i}`, dataset: 'flights' },
          },
        });
        const res = await fetch(`${s.ingestUrl}/`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 429) retryAfter = res.headers.get('retry-after');
        if (res.status === 204) accepted.push(`bp-${i}`);
        await res.arrayBuffer();
      },
    );
    expect(statuses.get(429) ?? 0).toBeGreaterThan(0);
    expect(retryAfter).toBe('1');
    expect([...statuses.keys()].every((k) => k === 204 || k === 429)).toBe(true);
    expect(s.app.batcher.depth).toBe(0);
    expect(await stats(s)).toBe(accepted.length);
  }, 60_000);
});

describe('a second dataset needs only a new schema file', () => {
  it('ingests and serves seattle_weather from schemas/ + one file, with no code change', async () => {
    const schemasDir = join(dir, 'schemas');
    mkdirSync(schemasDir);
    copyFileSync(join(ROOT, 'schemas/flights.json'), join(schemasDir, 'flights.json'));
    copyFileSync(
      join(ROOT, 'test/fixtures/schemas/seattle_weather.json'),
      join(schemasDir, 'seattle_weather.json'),
    );
    const s = await stack('second', { DUCTO_SCHEMAS: schemasDir });
    const csv = join(ROOT, 'node_modules/vega-datasets/data/seattle-weather.csv');
    const schemas = loadSchemas(schemasDir);
    for (let run = 0; run < 2; run++) {
      const summary = await publish({
        files: [csv],
        schemas,
        project: 'ducto-local',
        endpoint: `${s.ingestUrl}/`,
        concurrency: 32,
        progress: false,
      });
      expect(summary).toMatchObject({ dataset: 'seattle_weather', read: 1461, accepted: 1461, invalid: 0 });
    }
    // Published twice, stored once: the key field (the date) is the event id.
    expect(await stats(s, 'seattle_weather')).toBe(1461);
    const lines = readFileSync(csv, 'utf8').trim().split('\n').slice(1);
    const byWeather = new Map<string, number>();
    for (const l of lines) byWeather.set(l.split(',')[5]!, (byWeather.get(l.split(',')[5]!) ?? 0) + 1);
    const r = (await (await fetch(`${s.apiUrl}/v1/seattle_weather/stats?group_by=weather`)).json()) as {
      data: Array<{ weather: string; count: number }>;
    };
    expect(Object.fromEntries(r.data.map((d) => [d.weather, d.count]))).toEqual(
      Object.fromEntries(byWeather),
    );
    const day = (await (
      await fetch(`${s.apiUrl}/v1/seattle_weather?from=2012-01-01&to=2012-01-02`)
    ).json()) as { data: unknown[] };
    expect(day.data).toEqual([
      {
        event_id: String(Date.UTC(2012, 0, 1) * 1000),
        date: '2012-01-01T00:00:00.000Z',
        precipitation: 0,
        temp_max: 12.8,
        temp_min: 5,
        wind: 4.7,
        weather: 'drizzle',
      },
    ]);
  });

  it('publishing the same flights file twice stores it once', async () => {
    const s = stacks.stacks[0]!;
    const before = await stats(s);
    const file = join(ROOT, 'node_modules/vega-datasets/data/flights-2k.json');
    for (let run = 0; run < 2; run++) {
      const summary = await publish({
        files: [file],
        schemas: s.app.schemas,
        project: 'ducto-local',
        endpoint: `${s.ingestUrl}/`,
        concurrency: 64,
        progress: false,
      });
      expect(summary.accepted).toBe(2000);
    }
    expect(await stats(s)).toBe(before + 2000);
  });
});
