/**
 * Property-based and fuzz tests (fast-check): paging returns each event exactly once, in order.
 * Each guarantee is written once as a property over the
 * implementation under test, run against the real code, and run once more against a deliberately
 * broken variant to show that the property can fail.
 *
 * Run counts are fixed and small enough for a loaded two-core machine; seeds are not: a failure prints
 * the seed and the shrunk counterexample, which `fc.assert(..., { seed, path })` replays.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_EVENT_ID } from '../src/core/classify.ts';
import { createHarness, type Harness } from './helpers/api-harness.ts';

// ------------------------------------------------------------------------------------------------
// 4. Paging through the API returns every matching event exactly once, in order
// ------------------------------------------------------------------------------------------------

const T0_MS = Date.UTC(2001, 0, 1);
const ORIGINS = ['LAX', 'SFO', 'JFK'] as const;

interface Flight {
  id: string;
  /** Minutes after T0: few distinct values, so timestamps repeat as in real data. */
  minute: number;
  delay: number;
  origin: string;
}

const flight: fc.Arbitrary<Flight> = fc.record({
  id: fc.oneof(
    { weight: 6, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 6 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }) },
    // Long ids with characters JSON or UTF-8 widen: the cursors past them are the longest.
    {
      weight: 1,
      arbitrary: fc.string({
        unit: fc.constantFrom('é', '"', '中', 'a'),
        minLength: 200,
        maxLength: MAX_EVENT_ID - 4,
      }),
    },
  ),
  minute: fc.integer({ min: 0, max: 5 }),
  delay: fc.integer({ min: -10, max: 60 }),
  origin: fc.constantFrom(...ORIGINS),
});

interface PageFilter {
  query: string;
  keep: (f: Flight) => boolean;
}

const pageFilter: fc.Arbitrary<PageFilter> = fc.oneof(
  fc.constant({ query: '', keep: () => true }),
  fc.subarray([...ORIGINS], { minLength: 1 }).map((os) => ({
    query: `origin=${os.join(',')}`,
    keep: (f: Flight) => os.includes(f.origin as (typeof ORIGINS)[number]),
  })),
  fc
    .integer({ min: -10, max: 60 })
    .map((d) => ({ query: `delay.gte=${d}`, keep: (f: Flight) => f.delay >= d })),
  fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 6 })).map(([from, span]) => ({
    query: `from=${new Date(T0_MS + from * 60_000).toISOString()}&to=${new Date(T0_MS + (from + span) * 60_000).toISOString()}`,
    keep: (f: Flight) => f.minute >= from && f.minute < from + span,
  })),
);

const pagingCase = fc.record({
  flights: fc.uniqueArray(flight, { selector: (f) => f.id, maxLength: 40, size: 'medium' }),
  order: fc.constantFrom('asc' as const, 'desc' as const),
  limits: fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 6 }),
  filter: pageFilter,
});

/** The expected listing, computed apart from the warehouse: (time, event_id), ids in byte order. */
function expectedIds(flights: Flight[], filter: PageFilter, order: 'asc' | 'desc'): string[] {
  const sorted = flights
    .filter(filter.keep)
    .sort((a, b) => a.minute - b.minute || Buffer.compare(Buffer.from(a.id), Buffer.from(b.id)));
  if (order === 'desc') sorted.reverse();
  return sorted.map((f) => f.id);
}

/**
 * One property run on a shared harness: each run gets its own destination code, and every query of
 * the run filters on it, so runs never see each other's events (and share one DuckDB).
 */
const pagesOnce = (harness: () => Harness, seen = { pages: 0, multiPage: 0 }) => {
  let run = 0;
  return fc.asyncProperty(pagingCase, async ({ flights, order, limits, filter }) => {
    const h = harness();
    const destination = (run++).toString(36).toUpperCase().padStart(3, '0');
    // Event ids are unique across the store: a shared prefix keeps runs apart and keeps their order.
    flights = flights.map((f) => ({ ...f, id: `${destination}:${f.id}` }));
    await h.ingestAll(
      'flights',
      flights.map((f) => ({
        date: new Date(T0_MS + f.minute * 60_000).toISOString(),
        delay: f.delay,
        distance: 100,
        origin: f.origin,
        destination,
      })),
      (i) => flights[i]!.id,
    );
    const want = expectedIds(flights, filter, order);
    const base = `/v1/flights?destination=${destination}&order=${order}${filter.query ? `&${filter.query}` : ''}`;
    const got: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    for (let page = 0; page <= want.length; page++) {
      pages++;
      const limit = limits[page % limits.length]!;
      const path = `${base}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`;
      const r = await h.request(path);
      expect(r.status, `${path}: ${r.text}`).toBe(200);
      const body = r.json() as { data: Array<{ event_id: string }>; next_cursor: string | null };
      got.push(...body.data.map((e) => e.event_id));
      // A full page announces the next one; a later page is never empty.
      if (body.next_cursor !== null) expect(body.data).toHaveLength(limit);
      else expect(body.data.length).toBeLessThanOrEqual(limit);
      if (page > 0) expect(body.data.length).toBeGreaterThan(0);
      cursor = body.next_cursor;
      if (cursor === null) break;
      // The cursor is bound to its query: the other order refuses it.
      const flipped = base.replace(`order=${order}`, `order=${order === 'asc' ? 'desc' : 'asc'}`);
      const replay = await h.request(`${flipped}&limit=${limit}&cursor=${cursor}`);
      expect(replay.status).toBe(400);
      expect(replay.json().code).toBe('bad_cursor');
    }
    expect(cursor, 'paging did not end').toBeNull();
    expect(got).toEqual(want);
    seen.pages += pages;
    if (pages > 1) seen.multiPage++;
  });
};

describe('property: paging returns each event exactly once, in order', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('random events (repeated timestamps), random page sizes, both orders, a random filter', async () => {
    const seen = { pages: 0, multiPage: 0 };
    await fc.assert(
      pagesOnce(() => h, seen),
      { numRuns: 100 },
    );
    // Not vacuous: many runs paged more than once.
    expect(seen.multiPage).toBeGreaterThan(25);
  });

  it('each suite fails when its guarantee is broken', async () => {
    // A keyset on the time alone: rows sharing the last row's timestamp are skipped.
    const broken = await createHarness({
      warehouse: (w) => ({
        ...w,
        kind: w.kind,
        list: (s, q) =>
          w.list(s, {
            ...q,
            after: q.after && { time: q.after.time, eventId: q.order === 'asc' ? '\u{10ffff}' : '' },
          }),
      }),
    });
    try {
      const details = await fc.check(
        pagesOnce(() => broken),
        { numRuns: 60, endOnFailure: true },
      );
      expect(details.failed).toBe(true);
    } finally {
      await broken.close();
    }
  });
});
