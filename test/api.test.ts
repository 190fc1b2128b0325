import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuctoError } from '../src/core/errors.ts';
import type { Warehouse } from '../src/core/warehouse.ts';
import { createHarness, type FlightRecord, flightsSample, type Harness } from './helpers/api-harness.ts';

const toMicros = (d: string) => {
  const [date, time] = d.split(' ');
  const [y, m, day] = date!.split('/').map(Number);
  const [h, mi] = time!.split(':').map(Number);
  return Date.UTC(y!, m! - 1, day!, h!, mi!) * 1000;
};

const records = flightsSample(10_000);
// Every record with its id and time, in the API's order: (time, event_id).
const expected = records
  .map((r, i) => ({ ...r, id: `flights-${i}`, t: toMicros(r.date) }))
  .sort((a, b) => a.t - b.t || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

let h: Harness;
let queries = 0;

beforeAll(async () => {
  h = await createHarness({
    warehouse: (w) =>
      ({
        ...w,
        kind: w.kind,
        list: (...a) => {
          queries++;
          return w.list(...a);
        },
        stats: (...a) => {
          queries++;
          return w.stats(...a);
        },
      }) as Warehouse,
  });
  await h.ingestAll('flights', records);
}, 120_000);
afterAll(() => h?.close());

async function pageAll(query: string, pick: () => number): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const sep = query ? '&' : '';
    const r = await h.request(
      `/v1/flights?${query}${sep}limit=${pick()}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    expect(r.status, r.text).toBe(200);
    const body = r.json();
    out.push(...body.data);
    cursor = body.next_cursor;
    if (cursor) expect(r.headers.link).toMatch(/rel="next"/);
    expect(++pages).toBeLessThan(20_000);
  } while (cursor);
  return out;
}

describe('GET /v1/flights', () => {
  it('pages through every event exactly once, in (time, event_id) order, with random page sizes', async () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return 1 + (seed % 1000);
    };
    const all = await pageAll('', rand);
    expect(all.map((r) => r.event_id)).toEqual(expected.map((e) => e.id));
  });

  it('returns records with identical content to what was published', async () => {
    const r = (await h.request('/v1/flights/flights-0')).json();
    const src = records[0]!;
    expect(r.data).toEqual({
      event_id: 'flights-0',
      date: new Date(toMicros(src.date) / 1000).toISOString(),
      delay: src.delay,
      distance: src.distance,
      origin: src.origin,
      destination: src.destination,
    });
  });

  it('filters agree with the same filters computed from the input', async () => {
    const got = await pageAll('origin=LAX,SFO&delay.gte=30&delay.lt=120&order=desc', () => 250);
    const want = expected
      .filter((e) => (e.origin === 'LAX' || e.origin === 'SFO') && e.delay >= 30 && e.delay < 120)
      .reverse();
    expect(want.length).toBeGreaterThan(20);
    expect(got.map((r) => r.event_id)).toEqual(want.map((e) => e.id));
  });

  it('applies from (inclusive) and to (exclusive) on the event time', async () => {
    const from = expected[1000]!.t;
    const to = expected[3000]!.t;
    const iso = (t: number) => new Date(t / 1000).toISOString();
    const got = await pageAll(`from=${iso(from)}&to=${iso(to)}`, () => 1000);
    expect(got.length).toBe(expected.filter((e) => e.t >= from && e.t < to).length);
  });

  it('projects fields and always returns event_id', async () => {
    const r = (await h.request('/v1/flights?fields=delay&limit=3')).json();
    expect(Object.keys(r.data[0])).toEqual(['event_id', 'delay']);
  });

  it('refuses a cursor replayed with other filters', async () => {
    const first = (await h.request('/v1/flights?origin=LAX&limit=5')).json();
    const r = await h.request(`/v1/flights?origin=SFO&limit=5&cursor=${first.next_cursor}`);
    expect(r.status).toBe(400);
    expect(r.json().code).toBe('bad_cursor');
    expect((await h.request(`/v1/flights?origin=LAX&limit=50&cursor=${first.next_cursor}`)).status).toBe(200);
  });

  it('streams the whole result as NDJSON and CSV', async () => {
    const nd = await h.request('/v1/flights?origin=LAX', { accept: 'application/x-ndjson' });
    expect(nd.headers['content-type']).toMatch(/application\/x-ndjson/);
    const lines = nd.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.event_id)).toEqual(expected.filter((e) => e.origin === 'LAX').map((e) => e.id));

    const csv = await h.request('/v1/flights?fields=origin,delay', { accept: 'text/csv' });
    const rows = csv.text.trim().split('\r\n');
    expect(rows[0]).toBe('event_id,delay,origin');
    expect(rows.length).toBe(records.length + 1);
    expect((await h.request('/v1/flights', { accept: 'text/html' })).status).toBe(406);
  });
});

describe('GET /v1/flights/stats', () => {
  it('counts and aggregates per group like an independent computation', async () => {
    const r = await h.request('/v1/flights/stats?group_by=origin');
    expect(r.status).toBe(200);
    const byOrigin = new Map<string, FlightRecord[]>();
    for (const e of records) byOrigin.set(e.origin, [...(byOrigin.get(e.origin) ?? []), e]);
    const data = r.json().data as Array<Record<string, number | string>>;
    expect(data.length).toBe(byOrigin.size);
    for (const row of data) {
      const group = byOrigin.get(row.origin as string)!;
      expect(row.count).toBe(group.length);
      expect(row.delay_sum).toBe(group.reduce((s, e) => s + e.delay, 0));
      expect(row.delay_min).toBe(Math.min(...group.map((e) => e.delay)));
      expect(row.distance_max).toBe(Math.max(...group.map((e) => e.distance)));
      expect(row.delay_avg as number).toBeCloseTo(group.reduce((s, e) => s + e.delay, 0) / group.length, 6);
    }
  });

  it('takes the same filters as the list, and agrees with the list count', async () => {
    const q = 'origin=LAX&delay.gt=0';
    const stats = (await h.request(`/v1/flights/stats?${q}`)).json().data;
    expect(stats).toHaveLength(1);
    const listed = await pageAll(q, () => 1000);
    expect(stats[0].count).toBe(listed.length);
    expect(stats[0].count).toBe(records.filter((e) => e.origin === 'LAX' && e.delay > 0).length);
  });

  it('buckets by day', async () => {
    const data = (await h.request('/v1/flights/stats?bucket=day')).json().data as Array<{
      bucket: string;
      count: number;
    }>;
    const days = new Map<string, number>();
    for (const e of expected) {
      const d = new Date(e.t / 1000).toISOString().slice(0, 10);
      days.set(d, (days.get(d) ?? 0) + 1);
    }
    expect(data.map((d) => [d.bucket.slice(0, 10), d.count])).toEqual([...days].sort());
  });
});

describe('cache', () => {
  it('serves a burst of identical requests with one warehouse query', async () => {
    h.app.apiHandler.cache.clear();
    const before = queries;
    const rs = await Promise.all(
      Array.from({ length: 50 }, () => h.request('/v1/flights?origin=JFK&limit=7')),
    );
    expect(rs.every((r) => r.status === 200 && r.text === rs[0]!.text)).toBe(true);
    expect(queries - before).toBe(1);
    await h.request('/v1/flights?limit=7&origin=JFK');
    expect(queries - before).toBe(1);
  });

  it('answers 304 to If-None-Match with the current ETag', async () => {
    const r = await h.request('/v1/flights/stats?group_by=destination');
    expect(r.headers.etag).toMatch(/^"[\w-]+"$/);
    expect(r.headers['cache-control']).toMatch(/max-age=\d+/);
    const again = await h.request('/v1/flights/stats?group_by=destination', {
      'if-none-match': r.headers.etag!,
    });
    expect(again.status).toBe(304);
    expect(again.text).toBe('');
  });
});

describe('OpenAPI', () => {
  it('serves a valid OpenAPI 3.1 document with every dataset', async () => {
    const doc = (await h.request('/openapi.json')).json();
    expect(doc.openapi).toBe('3.1.0');
    await SwaggerParser.validate(structuredClone(doc));
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/flights', '/v1/flights/stats', '/v1/seattle_weather/{event_id}']),
    );
  });
});

describe('health', () => {
  it('reports liveness and readiness with freshness', async () => {
    expect((await h.request('/healthz')).status).toBe(200);
    const r = await h.request('/readyz');
    expect(r.status).toBe(200);
    expect(r.json().datasets.flights.newest_event_time).toBe(
      new Date(expected.at(-1)!.t / 1000).toISOString(),
    );
  });

  it('answers 503 with Retry-After when the warehouse is down, and recovers', async () => {
    let down = true;
    const fail = () => {
      if (down) throw new DuctoError('warehouse_unavailable', 'down');
    };
    const d = await createHarness({
      warehouse: (w) =>
        ({
          ...w,
          kind: w.kind,
          ping: async () => {
            fail();
            return w.ping();
          },
          list: async (...a) => {
            fail();
            return w.list(...a);
          },
        }) as Warehouse,
    });
    try {
      const r = await d.request('/v1/flights');
      expect(r.status).toBe(503);
      expect(r.headers['retry-after']).toBeDefined();
      expect(r.json().code).toBe('warehouse_unavailable');
      expect((await d.request('/readyz')).status).toBe(503);
      down = false;
      expect((await d.request('/v1/flights')).status).toBe(200);
      expect((await d.request('/readyz')).status).toBe(200);
    } finally {
      await d.close();
    }
  });
});

describe('stats limits', () => {
  it('refuses a grouping with more groups than one response should hold (422)', async () => {
    const small = await createHarness({ env: { DUCTO_MAX_STATS_GROUPS: '50' } });
    try {
      await small.ingestAll('flights', records.slice(0, 2000));
      const r = await small.request('/v1/flights/stats?group_by=origin');
      expect(r.status).toBe(422);
      expect(r.json().code).toBe('result_too_large');
      expect((await small.request('/v1/flights/stats?group_by=origin&origin=LAX,SFO')).status).toBe(200);
    } finally {
      await small.close();
    }
  });
});
