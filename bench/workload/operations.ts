/** The readers' operations: cursor pages, filtered lists, NDJSON streams, stats, get by id. */

import type { Reply } from '../../support/http.ts';
import { DATASET, DAY_MS, HOUR_MS, MAX_PAGES_PER_WALK, PAGE_LIMIT } from './constants.ts';
import { type Flight, flightTime, iso, pickOne } from './flights.ts';
import { contentTypeOf, expectStatus, OpError, statusKey } from './http.ts';

// ---------------------------------------------------------------------------------------------
// Consumers and their operations

export interface OpContext {
  /** GET a path (with its query) of the API. */
  get(pathAndQuery: string, headers?: Record<string, string>): Promise<Reply>;
  flights: readonly Flight[];
  /** Range of the records' event times, epoch ms. */
  timeRange: { min: number; max: number };
  /** A recently acknowledged event and the index of its record in `flights`, if any yet. */
  published(): { id: string; record: number } | null;
  /** Per-consumer state an operation may keep between calls (e.g. a cursor walk). */
  state: Record<string, unknown>;
}

export interface Operation {
  name: string;
  weight: number;
  /** One request; throws OpError on a wrong answer; false when there was nothing to do. */
  run(ctx: OpContext): Promise<boolean | undefined>;
}

export type Row = Record<string, unknown>;

export function rowsOf(body: unknown, limit: number): Row[] {
  const data = (body as { data?: unknown } | undefined)?.data;
  if (!Array.isArray(data)) throw new OpError('mismatch no data array');
  if (data.length > limit) throw new OpError('mismatch page larger than limit');
  return data as Row[];
}

export const timeOf = (row: Row) => Date.parse(String(row.date));

export function randomDay(ctx: OpContext): number {
  const days = Math.max(1, Math.floor((ctx.timeRange.max - ctx.timeRange.min) / DAY_MS));
  return Math.floor(ctx.timeRange.min / DAY_MS) * DAY_MS + Math.floor(Math.random() * days) * DAY_MS;
}

export interface Walk {
  params: URLSearchParams;
  from: number;
  pages: number;
}

/** Pages forward from a random day with the cursor each page returns, up to 10 pages a walk. */
export const pageOp: Operation = {
  name: 'page',
  weight: 30,
  async run(ctx) {
    let walk = ctx.state.walk as Walk | undefined;
    if (!walk) {
      const from = randomDay(ctx);
      walk = { params: new URLSearchParams({ from: iso(from), limit: String(PAGE_LIMIT) }), from, pages: 0 };
    }
    const body = expectStatus(await ctx.get(`/v1/${DATASET}?${walk.params}`));
    const rows = rowsOf(body, PAGE_LIMIT);
    if (rows.some((r) => !(timeOf(r) >= walk.from) || typeof r.event_id !== 'string'))
      throw new OpError('mismatch page row outside its query');
    const next = (body as { next_cursor?: unknown }).next_cursor;
    walk.pages++;
    if (typeof next === 'string' && walk.pages < MAX_PAGES_PER_WALK) {
      walk.params.set('cursor', next);
      ctx.state.walk = walk;
    } else {
      ctx.state.walk = undefined;
    }
    return true;
  },
};

/** Equality and range filters; every row returned must satisfy them. */
export const filterOp: Operation = {
  name: 'filter',
  weight: 25,
  async run(ctx) {
    const origins = [...new Set([pickOne(ctx.flights).origin, pickOne(ctx.flights).origin])];
    const minDelay = pickOne([0, 15, 30, 60]);
    const query = new URLSearchParams({
      origin: origins.join(','),
      'delay.gte': String(minDelay),
      limit: '50',
    });
    const rows = rowsOf(expectStatus(await ctx.get(`/v1/${DATASET}?${query}`)), 50);
    if (rows.some((r) => !origins.includes(String(r.origin)) || !(Number(r.delay) >= minDelay)))
      throw new OpError('mismatch filtered row outside the filter');
    return true;
  },
};

/** The NDJSON stream of one random hour; every line must parse and fall in the hour. */
export const streamOp: Operation = {
  name: 'stream',
  weight: 10,
  async run(ctx) {
    const span = ctx.timeRange.max - ctx.timeRange.min;
    const from = Math.floor((ctx.timeRange.min + Math.random() * span) / HOUR_MS) * HOUR_MS;
    const query = new URLSearchParams({ from: iso(from), to: iso(from + HOUR_MS) });
    const reply = await ctx.get(`/v1/${DATASET}?${query}`, { accept: 'application/x-ndjson' });
    if (reply.status !== 200) throw new OpError(statusKey(reply));
    if (!contentTypeOf(reply).startsWith('application/x-ndjson')) throw new OpError('mismatch stream type');
    const text = reply.body.toString('utf8');
    if (text.length > 0 && !text.endsWith('\n')) throw new OpError('mismatch truncated stream');
    for (const line of text.split('\n')) {
      if (line === '') continue;
      let t: number;
      try {
        t = timeOf(JSON.parse(line) as Row);
      } catch {
        throw new OpError('mismatch stream line is not JSON');
      }
      if (!(t >= from && t < from + HOUR_MS)) throw new OpError('mismatch stream row outside its range');
    }
    return true;
  },
};

/** Aggregates by origin, with and without a filter. */
export const statsOp: Operation = {
  name: 'stats',
  weight: 15,
  async run(ctx) {
    const query = new URLSearchParams({ group_by: 'origin' });
    const variant = Math.random();
    if (variant < 0.33) query.set('delay.gt', '0');
    else if (variant < 0.66) {
      const from = randomDay(ctx);
      query.set('from', iso(from));
      query.set('to', iso(from + 7 * DAY_MS));
    }
    const rows = rowsOf(
      expectStatus(await ctx.get(`/v1/${DATASET}/stats?${query}`)),
      Number.MAX_SAFE_INTEGER,
    );
    if (rows.some((r) => typeof r.origin !== 'string' || typeof r.count !== 'number'))
      throw new OpError('mismatch stats row');
    return true;
  },
};

/** One acknowledged event by id: it must be there, with the record it was published with. */
export const getOp: Operation = {
  name: 'get',
  weight: 20,
  async run(ctx) {
    const picked = ctx.published();
    if (!picked) return false;
    const body = expectStatus(await ctx.get(`/v1/${DATASET}/${encodeURIComponent(picked.id)}`));
    const row = (body as { data?: Row } | undefined)?.data;
    const want = ctx.flights[picked.record]!;
    if (
      row?.event_id !== picked.id ||
      row.origin !== want.origin ||
      row.destination !== want.destination ||
      row.delay !== want.delay ||
      row.distance !== want.distance ||
      timeOf(row) !== flightTime(want.date)
    )
      throw new OpError('mismatch event differs from the one published');
    return true;
  },
};

export const DEFAULT_OPERATIONS: readonly Operation[] = [pageOp, filterOp, streamOp, statsOp, getOp];
