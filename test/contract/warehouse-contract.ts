import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatasetSchema } from '../../src/core/dataset-schema.ts';
import type { Value } from '../../src/core/record.ts';
import type {
  EventRow,
  Filter,
  ListQuery,
  RejectedRow,
  StatsQuery,
  StatsRow,
  StoredEvent,
  Warehouse,
} from '../../src/core/warehouse.ts';
import { flights, seattleWeather } from '../helpers/schemas.ts';

export interface WarehouseFixture {
  store: Warehouse;
  cleanup(): Promise<void>;
}

export interface WarehouseCapabilities {
  /** The adapter tells which ids a write inserted (`WriteResult.inserted` is not null). Default true. */
  reportsInserted?: boolean;
  /** Why the suite cannot run here (no credentials…): printed, and every test is skipped. */
  skip?: string | null;
}

const HOUR = 3_600_000_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2001, 0, 1) * 1000;
const AIRPORTS = ['LAX', 'SFO', 'JFK', 'ORD', 'SEA'];

/** A small seeded generator, so a failure reproduces. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function int(rnd: () => number, min: number, max: number): number {
  return min + Math.floor(rnd() * (max - min + 1));
}

/**
 * Flights rows with many ties on time (times drawn from `times` distinct values spread over three
 * days) and ids in no relation to insertion order, so ordering must really use (time, event_id).
 */
function flightRows(count: number, seed: number, times = 40): EventRow[] {
  const rnd = random(seed);
  const slots = Array.from({ length: times }, () => T0 + int(rnd, 0, 3 * DAY) + int(rnd, 0, 999_999));
  return Array.from({ length: count }, (_, i) => ({
    eventId: `ev-${int(rnd, 0, 1e9).toString(36)}-${i}`,
    fields: {
      date: slots[int(rnd, 0, times - 1)]!,
      delay: int(rnd, -60, 300),
      distance: int(rnd, 30, 3000),
      origin: AIRPORTS[int(rnd, 0, AIRPORTS.length - 1)]!,
      destination: AIRPORTS[int(rnd, 0, AIRPORTS.length - 1)]!,
    },
    publishTime: T0 + i,
    ingestedAt: T0 + 10 * DAY + i,
  }));
}

function stored(schema: DatasetSchema, row: EventRow): StoredEvent {
  const e: StoredEvent = { event_id: row.eventId };
  for (const f of schema.fields) e[f.name] = row.fields[f.name] ?? null;
  return e;
}

function compareEvents(timeField: string, order: 'asc' | 'desc') {
  const sign = order === 'asc' ? 1 : -1;
  return (a: StoredEvent, b: StoredEvent) => {
    const ta = a[timeField] as number;
    const tb = b[timeField] as number;
    if (ta !== tb) return sign * (ta - tb);
    return sign * (a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0);
  };
}

function matches(e: StoredEvent, f: Filter): boolean {
  const v = e[f.field] ?? null;
  if (v === null) return false;
  const x = f.values[0] as Value;
  switch (f.op) {
    case 'in':
      return f.values.includes(v);
    case 'gt':
      return (v as number) > (x as number);
    case 'gte':
      return (v as number) >= (x as number);
    case 'lt':
      return (v as number) < (x as number);
    case 'lte':
      return (v as number) <= (x as number);
  }
}

/** The expected answer of a list query, computed from the rows in JS. */
function expectedList(schema: DatasetSchema, rows: StoredEvent[], q: ListQuery): StoredEvent[] {
  const sorted = rows
    .filter((e) => q.filters.every((f) => matches(e, f)))
    .sort(compareEvents(schema.time.field, q.order));
  return q.limit === null ? sorted : sorted.slice(0, q.limit);
}

/** The expected answer of a stats query, computed from the rows in JS. */
function expectedStats(schema: DatasetSchema, rows: StoredEvent[], q: StatsQuery): StatsRow[] {
  const groups = new Map<string, { key: Record<string, Value>; rows: StoredEvent[] }>();
  for (const e of rows.filter((r) => q.filters.every((f) => matches(r, f)))) {
    const key: Record<string, Value> = {};
    for (const g of q.groupBy) key[g] = e[g] ?? null;
    if (q.bucket !== null) {
      const size = q.bucket === 'hour' ? HOUR : DAY;
      key.bucket = Math.floor((e[schema.time.field] as number) / size) * size;
    }
    const id = JSON.stringify(key);
    const group = groups.get(id) ?? { key, rows: [] };
    group.rows.push(e);
    groups.set(id, group);
  }
  if (groups.size === 0 && q.groupBy.length === 0 && q.bucket === null)
    groups.set('{}', { key: {}, rows: [] });
  const out = [...groups.values()].map(({ key, rows: members }) => {
    const row: StatsRow = { ...key, count: members.length };
    for (const m of schema.measures) {
      const values = members.map((e) => e[m]).filter((v): v is number => typeof v === 'number');
      const sum = values.reduce((a, b) => a + b, 0);
      row[`${m}_min`] = values.length ? Math.min(...values) : null;
      row[`${m}_max`] = values.length ? Math.max(...values) : null;
      row[`${m}_avg`] = values.length ? sum / values.length : null;
      row[`${m}_sum`] = values.length ? sum : null;
    }
    return row;
  });
  const columns = [...q.groupBy, ...(q.bucket === null ? [] : ['bucket'])];
  return out.sort((a, b) => {
    for (const c of columns) {
      const x = a[c] ?? null;
      const y = b[c] ?? null;
      if (x === y) continue;
      if (x === null) return 1;
      if (y === null) return -1;
      return x < y ? -1 : 1;
    }
    return 0;
  });
}

/** Sums and averages of doubles may be added up in another order by the warehouse. */
function expectStatsEqual(actual: StatsRow[], expected: StatsRow[]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, i) => {
    const want = expected[i]!;
    expect(Object.keys(row).sort()).toEqual(Object.keys(want).sort());
    for (const [k, v] of Object.entries(want)) {
      const got = row[k];
      if (typeof v === 'number' && !Number.isInteger(v)) {
        expect(typeof got).toBe('number');
        expect(Math.abs((got as number) - v)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(v)));
      } else {
        expect({ [k]: got }).toEqual({ [k]: v });
      }
    }
  });
}

function listQuery(q: Partial<ListQuery>): ListQuery {
  return { filters: [], order: 'asc', limit: 10_000, after: null, fields: null, ...q };
}

async function collect(stream: AsyncIterable<StoredEvent[]>): Promise<StoredEvent[][]> {
  const chunks: StoredEvent[][] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

/**
 * The Warehouse port's contract. Every adapter runs it with one call; `make` is called once and each
 * test works in tables of its own, so the store is shared and tests never see each other's rows.
 */
export function describeWarehouseContract(
  name: string,
  make: () => Promise<WarehouseFixture>,
  capabilities: WarehouseCapabilities = {},
): void {
  const reportsInserted = capabilities.reportsInserted ?? true;
  const skip = capabilities.skip ?? null;
  if (skip !== null) console.warn(`warehouse contract for ${name} skipped: ${skip}`);

  describe.skipIf(skip !== null)(`Warehouse contract: ${name}`, () => {
    let fixture: WarehouseFixture | undefined;
    let tables = 0;
    const store = () => fixture!.store;

    beforeAll(async () => {
      fixture = await make();
    });
    afterAll(async () => {
      await fixture?.cleanup();
    });

    async function dataset(base: DatasetSchema): Promise<DatasetSchema> {
      const schema = { ...base, name: `${base.name}_t${++tables}` };
      await store().ensure([schema]);
      return schema;
    }

    async function write(schema: DatasetSchema, rows: EventRow[], rejected: RejectedRow[] = []) {
      return store().write({ dataset: schema.name, rows, rejected });
    }

    async function all(schema: DatasetSchema): Promise<StoredEvent[]> {
      return store().list(schema, listQuery({ limit: 100_000 }));
    }

    it('ensure is idempotent and keeps what is stored', async () => {
      const schema = await dataset(flights());
      await store().ensure([schema]);
      expect(await store().count(schema)).toBe(0);
      await write(schema, flightRows(3, 1));
      await store().ensure([schema, schema]);
      expect(await store().count(schema)).toBe(3);
    });

    it('write stores the rows and returns their ids as inserted', async () => {
      const schema = await dataset(flights());
      const rows = flightRows(50, 2);
      const result = await write(schema, rows);
      if (reportsInserted) expect(result.inserted).toEqual(new Set(rows.map((r) => r.eventId)));
      expect(result.refused).toEqual([]);
      expect(await store().count(schema)).toBe(50);
      expect(await all(schema)).toEqual(
        expectedList(
          schema,
          rows.map((r) => stored(schema, r)),
          listQuery({}),
        ),
      );
    });

    it('writing the same batch again inserts nothing', async () => {
      const schema = await dataset(flights());
      const rows = flightRows(40, 3);
      await write(schema, rows);
      const again = await write(schema, rows);
      if (reportsInserted) expect(again.inserted).toEqual(new Set());
      expect(await store().count(schema)).toBe(40);
    });

    it('a batch mixing stored and new events inserts only the new ones, and keeps the stored values', async () => {
      const schema = await dataset(flights());
      const rows = flightRows(60, 4);
      await write(schema, rows.slice(0, 30));
      // A redelivered event with changed content must not overwrite the stored one.
      // A redelivery is received later than the first copy, as in production (BigQuery keeps the
      // earliest ingested_at; with equal times the winner would be arbitrary).
      const changed = rows
        .slice(20, 30)
        .map((r) => ({ ...r, fields: { ...r.fields, delay: 9999 }, ingestedAt: r.ingestedAt + 1_000_000 }));
      const result = await write(schema, [...changed, ...rows.slice(30)]);
      if (reportsInserted) expect(result.inserted).toEqual(new Set(rows.slice(30).map((r) => r.eventId)));
      expect(await store().count(schema)).toBe(60);
      expect((await store().get(schema, rows[25]!.eventId))?.delay).toBe(rows[25]!.fields.delay);
    });

    it('duplicates within one batch are stored once', async () => {
      const schema = await dataset(flights());
      const rows = flightRows(20, 5);
      const result = await write(schema, [...rows, ...rows.slice(0, 10), rows[3]!]);
      if (reportsInserted) expect(result.inserted).toEqual(new Set(rows.map((r) => r.eventId)));
      expect(await store().count(schema)).toBe(20);
    });

    it('concurrent writes of overlapping batches store each id once', async () => {
      const schema = await dataset(flights());
      const pool = flightRows(500, 6);
      const rnd = random(66);
      const batches = Array.from({ length: 8 }, () => pool.filter(() => rnd() < 0.4));
      const results = await Promise.all(batches.map((b) => write(schema, b)));
      const union = new Set(batches.flat().map((r) => r.eventId));
      expect(await store().count(schema)).toBe(union.size);
      const ids = (await all(schema)).map((e) => e.event_id);
      expect(new Set(ids).size).toBe(ids.length);
      if (reportsInserted) {
        const reported = results.flatMap((r) => [...r.inserted!]);
        expect(reported.length).toBe(union.size);
        expect(new Set(reported)).toEqual(union);
      }
    });

    it('a row that does not fit its columns is refused alone; the rest of the batch is stored', async () => {
      const schema = await dataset(flights());
      const rows = flightRows(5, 7);
      const bad = { ...rows[2]!, fields: { ...rows[2]!.fields, delay: 'late' } };
      const result = await write(schema, [rows[0]!, rows[1]!, bad, rows[3]!, rows[4]!]);
      expect(result.refused.map((r) => [r.eventId, r.code])).toEqual([[bad.eventId, 'warehouse_rejected']]);
      expect(await store().count(schema)).toBe(4);
      expect(await store().get(schema, bad.eventId)).toBeNull();
    });

    it('stores rejected rows with code, detail and payload bytes intact', async () => {
      const schema = await dataset(flights());
      const rejected: RejectedRow[] = [
        {
          messageId: 'm-1',
          eventId: null,
          code: 'invalid_utf8',
          detail: 'the message data is not valid UTF-8',
          payload: new Uint8Array([0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28, 0x41]),
          attributes: {},
          publishTime: null,
          receivedAt: T0 + 1,
        },
        {
          messageId: 'm-2',
          eventId: 'ev-2',
          code: 'missing_field',
          detail: '"delay" is required — ünïcödé ☃',
          payload: new TextEncoder().encode('{"origin":"LAX"}'),
          attributes: { event_id: 'ev-2', 'x-note': 'ü"\'\\' },
          publishTime: T0 + 2,
          receivedAt: T0 + 3,
        },
        {
          messageId: 'm-3',
          eventId: null,
          code: 'empty_message',
          detail: 'the message data is empty',
          payload: null,
          attributes: { a: '' },
          publishTime: T0 - 5,
          receivedAt: T0 + 2,
        },
      ];
      const rows = flightRows(3, 8);
      await write(schema, rows, rejected);
      expect(await store().count(schema)).toBe(3);
      const back = await store().rejected(schema, 10);
      const plain = (r: RejectedRow) => ({
        replayedAt: null,
        replayOutcome: null,
        ...r,
        payload: r.payload === null ? null : [...r.payload],
      });
      expect(back.map(plain)).toEqual([rejected[1]!, rejected[2]!, rejected[0]!].map(plain));
      expect((await store().rejected(schema, 1)).map((r) => r.messageId)).toEqual(['m-2']);
    });

    it('replay: lists what a replay may move, oldest first, by code, time and position; marks outcomes', async () => {
      const schema = await dataset(flights());
      const reject = (i: number, code: RejectedRow['code']): RejectedRow => ({
        messageId: `r-${i}`,
        eventId: null,
        code,
        detail: `reason ${i}`,
        payload: new TextEncoder().encode(`{"n":${i}}`),
        attributes: { dataset: 'flights' },
        publishTime: null,
        receivedAt: T0 + i,
      });
      const all = [
        reject(3, 'missing_field'),
        reject(1, 'not_json'),
        reject(2, 'missing_field'),
        reject(4, 'not_json'),
      ];
      await write(schema, [], all);
      // The same message rejected on a second delivery: two rows, one message.
      await write(schema, [], [{ ...reject(1, 'not_json'), receivedAt: T0 + 1 }]);
      const ids = (rows: RejectedRow[]) => rows.map((r) => r.messageId);
      const q = { codes: null, from: null, to: null, after: null, limit: 100 };
      expect(ids(await store().replayable(schema, q))).toEqual(['r-1', 'r-1', 'r-2', 'r-3', 'r-4']);
      expect(ids(await store().replayable(schema, { ...q, codes: ['missing_field'] }))).toEqual([
        'r-2',
        'r-3',
      ]);
      expect(ids(await store().replayable(schema, { ...q, from: T0 + 2, to: T0 + 4 }))).toEqual([
        'r-2',
        'r-3',
      ]);
      expect(
        ids(await store().replayable(schema, { ...q, after: { receivedAt: T0 + 2, messageId: 'r-2' } })),
      ).toEqual(['r-3', 'r-4']);
      expect(ids(await store().replayable(schema, { ...q, limit: 2 }))).toEqual(['r-1', 'r-1']);

      const at = T0 + 1_000_000;
      await store().markReplayed(schema, [
        { messageId: 'r-1', receivedAt: T0 + 1, outcome: 'stored', at, code: 'not_json', detail: 'reason 1' },
        {
          messageId: 'r-2',
          receivedAt: T0 + 2,
          outcome: 'duplicate',
          at,
          code: 'missing_field',
          detail: 'reason 2',
        },
        {
          messageId: 'r-3',
          receivedAt: T0 + 3,
          outcome: 'rejected',
          at,
          code: 'wrong_type',
          detail: 'still bad',
        },
      ]);
      // Stored and duplicate are done; rejected again stays replayable, with its new reason.
      const left = await store().replayable(schema, q);
      expect(ids(left)).toEqual(['r-3', 'r-4']);
      expect(left[0]).toMatchObject({
        code: 'wrong_type',
        detail: 'still bad',
        replayedAt: at,
        replayOutcome: 'rejected',
      });
      expect(left[1]).toMatchObject({ replayedAt: null, replayOutcome: null });
      const marked = (await store().rejected(schema, 10)).filter((r) => r.messageId === 'r-1');
      expect(marked.map((r) => [r.replayOutcome, r.replayedAt, r.code])).toEqual([
        ['stored', at, 'not_json'],
        ['stored', at, 'not_json'],
      ]);
      await store().markReplayed(schema, []);
    });

    it('lists in (time, event_id) order, ascending and descending, ties on time broken by event_id', async () => {
      const schema = await dataset(flights());
      const rows = flightRows(200, 9, 5);
      await write(schema, rows);
      const events = rows.map((r) => stored(schema, r));
      for (const order of ['asc', 'desc'] as const) {
        const got = await store().list(schema, listQuery({ order }));
        expect(got).toEqual(expectedList(schema, events, listQuery({ order })));
        expect(new Set(got.map((e) => e.date)).size).toBe(5);
      }
      expect(await store().list(schema, listQuery({ limit: 7 }))).toEqual(
        expectedList(schema, events, listQuery({ limit: 7 })),
      );
    });

    it('keyset pagination with random page sizes returns every event exactly once, in order', async () => {
      const schema = await dataset(flights());
      const rows = flightRows(400, 10, 25);
      await write(schema, rows);
      const events = rows.map((r) => stored(schema, r));
      const rnd = random(1010);
      const cases: Array<Partial<ListQuery>> = [
        { order: 'asc' },
        { order: 'desc' },
        { order: 'asc', filters: [{ field: 'origin', op: 'in', values: ['LAX', 'JFK'] }] },
        { order: 'desc', filters: [{ field: 'delay', op: 'gte', values: [0] }] },
      ];
      for (const c of cases) {
        const pages: StoredEvent[] = [];
        let after: ListQuery['after'] = null;
        for (;;) {
          const limit = int(rnd, 1, 37);
          const page = await store().list(schema, listQuery({ ...c, limit, after }));
          pages.push(...page);
          if (page.length < limit) break;
          const last = page[page.length - 1]!;
          after = { time: last.date as number, eventId: last.event_id };
        }
        expect(pages).toEqual(expectedList(schema, events, listQuery({ ...c, limit: null })));
      }
    });

    it('applies each filter operator', async () => {
      const schema = await dataset(flights());
      const rows = flightRows(300, 11);
      await write(schema, rows);
      const events = rows.map((r) => stored(schema, r));
      const pivot = rows[17]!.fields;
      const cases: Filter[][] = [
        [{ field: 'origin', op: 'in', values: ['LAX'] }],
        [{ field: 'origin', op: 'in', values: ['LAX', 'SEA', 'NOPE'] }],
        [{ field: 'distance', op: 'in', values: [pivot.distance!, rows[3]!.fields.distance!] }],
        [{ field: 'delay', op: 'gt', values: [pivot.delay!] }],
        [{ field: 'delay', op: 'gte', values: [pivot.delay!] }],
        [{ field: 'delay', op: 'lt', values: [pivot.delay!] }],
        [{ field: 'delay', op: 'lte', values: [pivot.delay!] }],
        [{ field: 'date', op: 'gte', values: [pivot.date!] }],
        [{ field: 'date', op: 'lt', values: [pivot.date!] }],
        [{ field: 'date', op: 'gt', values: [pivot.date!] }],
        [{ field: 'date', op: 'lte', values: [pivot.date!] }],
        [
          { field: 'origin', op: 'in', values: ['SFO', 'ORD'] },
          { field: 'delay', op: 'gte', values: [0] },
          { field: 'delay', op: 'lt', values: [120] },
          { field: 'date', op: 'gte', values: [T0 + DAY] },
        ],
        [{ field: 'origin', op: 'in', values: ['NOPE'] }],
      ];
      for (const filters of cases) {
        const want = expectedList(schema, events, listQuery({ filters }));
        const got = await store().list(schema, listQuery({ filters }));
        expect({ filters, ids: got.map((e) => e.event_id) }).toEqual({
          filters,
          ids: want.map((e) => e.event_id),
        });
        expect(got).toEqual(want);
      }
    });

    it('projects the asked fields plus event_id and the time field', async () => {
      const schema = await dataset(flights());
      const rows = flightRows(20, 12);
      await write(schema, rows);
      const events = expectedList(
        schema,
        rows.map((r) => stored(schema, r)),
        listQuery({}),
      );
      const pick = (e: StoredEvent, keys: string[]) => Object.fromEntries(keys.map((k) => [k, e[k]]));
      for (const fields of [['origin'], ['delay', 'destination'], [], ['date']]) {
        const keys = [...new Set(['event_id', 'date', ...fields])];
        const got = await store().list(schema, listQuery({ fields }));
        expect(got.map((e) => Object.keys(e).sort())).toEqual(events.map(() => [...keys].sort()));
        expect(got).toEqual(events.map((e) => pick(e, keys)));
      }
    });

    it('gets one event by id, or null', async () => {
      const schema = await dataset(flights());
      const rows = flightRows(10, 13);
      await write(schema, rows);
      expect(await store().get(schema, rows[4]!.eventId)).toEqual(stored(schema, rows[4]!));
      expect(await store().get(schema, 'no-such-event')).toBeNull();
    });

    it('computes stats equal to the rows aggregated independently', async () => {
      const schema = await dataset(flights());
      const rows = flightRows(500, 14, 60);
      await write(schema, rows);
      const events = rows.map((r) => stored(schema, r));
      const cases: StatsQuery[] = [
        { filters: [], groupBy: [], bucket: null },
        { filters: [], groupBy: ['origin', 'destination'], bucket: null },
        { filters: [], groupBy: [], bucket: 'hour' },
        { filters: [], groupBy: ['origin'], bucket: 'day' },
        { filters: [{ field: 'delay', op: 'gte', values: [30] }], groupBy: ['destination'], bucket: null },
        { filters: [{ field: 'origin', op: 'in', values: ['NOPE'] }], groupBy: [], bucket: null },
        { filters: [{ field: 'origin', op: 'in', values: ['NOPE'] }], groupBy: ['origin'], bucket: 'day' },
      ];
      for (const q of cases)
        expectStatsEqual(await store().stats(schema, q), expectedStats(schema, events, q));
    });

    it('computes stats over doubles and missing values', async () => {
      // An optional dimension too, so a group of missing values is tested (it sorts last).
      const base = seattleWeather();
      const fields = base.fields.map((f) => (f.name === 'weather' ? { ...f, required: false } : f));
      const schema = await dataset({ ...base, fields });
      const rnd = random(15);
      const kinds = ['rain', 'sun', 'fog'];
      const rows: EventRow[] = Array.from({ length: 120 }, (_, i) => ({
        eventId: `day-${i}`,
        fields: {
          date: Date.UTC(2012, 0, 1) * 1000 + i * 7 * HOUR,
          precipitation: Math.round(rnd() * 5000) / 100,
          temp_max: rnd() * 40 - 5,
          temp_min: -rnd() * 20,
          wind: i % 3 === 0 ? null : rnd() * 10,
          weather: i % 10 === 0 ? null : kinds[i % 3]!,
        },
        publishTime: null,
        ingestedAt: T0,
      }));
      // All winds missing in one group: its wind aggregates are null, its count is not.
      for (const r of rows) if (r.fields.weather === 'fog') r.fields.wind = null;
      await write(schema, rows);
      const events = rows.map((r) => stored(schema, r));
      for (const q of [
        { filters: [], groupBy: [], bucket: null },
        { filters: [], groupBy: ['weather'], bucket: null },
        {
          filters: [{ field: 'precipitation', op: 'gt', values: [10.5] }],
          groupBy: ['weather'],
          bucket: 'day',
        },
      ] satisfies StatsQuery[]) {
        expectStatsEqual(await store().stats(schema, q), expectedStats(schema, events, q));
      }
    });

    it('reports freshness: null when empty, then the newest event time and write time', async () => {
      const schema = await dataset(flights());
      expect(await store().freshness(schema)).toEqual({ newestEventTime: null, newestIngestedAt: null });
      const rows = flightRows(30, 16);
      await write(schema, rows);
      expect(await store().freshness(schema)).toEqual({
        newestEventTime: Math.max(...rows.map((r) => r.fields.date as number)),
        newestIngestedAt: Math.max(...rows.map((r) => r.ingestedAt)),
      });
    });

    it('streams the whole result in order, in several chunks', async () => {
      const schema = await dataset(flights());
      const rows = flightRows(5000, 17, 500);
      for (let i = 0; i < rows.length; i += 1000) await write(schema, rows.slice(i, i + 1000));
      const events = rows.map((r) => stored(schema, r));
      const start = expectedList(schema, events, listQuery({}))[100]!;
      const cases: Array<Partial<ListQuery>> = [
        { order: 'asc' },
        { order: 'desc', filters: [{ field: 'origin', op: 'in', values: ['LAX', 'SFO', 'JFK'] }] },
        { order: 'asc', after: { time: start.date as number, eventId: start.event_id }, fields: ['delay'] },
      ];
      for (const c of cases) {
        const q = listQuery({ ...c, limit: null });
        const chunks = await collect(store().stream(schema, q));
        expect(chunks.length).toBeGreaterThan(1);
        expect(chunks.every((chunk) => chunk.length > 0)).toBe(true);
        const want = expectedList(schema, events, q);
        const project = (e: StoredEvent) =>
          q.fields === null
            ? e
            : { event_id: e.event_id, date: e.date, ...Object.fromEntries(q.fields.map((f) => [f, e[f]])) };
        const after = q.after;
        const rest =
          after === null
            ? want
            : want.filter(
                (e) =>
                  (e.date as number) > after.time || (e.date === after.time && e.event_id > after.eventId),
              );
        expect(chunks.flat()).toEqual(rest.map(project));
      }
    });

    it('an abandoned stream releases what it held', async () => {
      const schema = await dataset(flights());
      await write(schema, flightRows(5000, 18));
      for (let i = 0; i < 12; i++) {
        for await (const chunk of store().stream(schema, listQuery({ limit: null }))) {
          expect(chunk.length).toBeGreaterThan(0);
          break;
        }
      }
      await store().ping();
      expect(await store().count(schema)).toBe(5000);
    });

    it('round-trips values exactly', async () => {
      const schema = await dataset(seattleWeather());
      const values: Array<Record<string, Value>> = [
        {
          date: 1_325_376_000_000_001,
          precipitation: 0.1 + 0.2,
          temp_max: -12.5,
          temp_min: -59.999999,
          wind: null,
          weather: 'sun',
        },
        {
          date: -1,
          precipitation: 0,
          temp_max: 1e-7,
          temp_min: -0.5,
          wind: Math.PI,
          weather: 'ünïcödé ☃ 雨 🌧️ é',
        },
        {
          date: -2_208_988_800_000_000 + 500_000,
          precipitation: 1000,
          temp_max: 60,
          temp_min: -60,
          wind: 0,
          weather: `q'"\`\\\n;--`,
        },
        {
          date: Date.UTC(2015, 11, 31, 23, 59, 59) * 1000 + 999_999,
          precipitation: 5e-324,
          temp_max: 2 ** 40 + 0.5,
          temp_min: 0,
          wind: 99.99,
          weather: '',
        },
      ];
      const rows: EventRow[] = values.map((fields, i) => ({
        eventId: ['plain', 'évènement ☃', 'x'.repeat(256), `id'"; DROP TABLE x;--`][i]!,
        fields,
        publishTime: null,
        ingestedAt: T0,
      }));
      const flightsSchema = await dataset(flights());
      const extremes = flightRows(2, 19).map((r, i) => ({
        ...r,
        fields: { ...r.fields, delay: i ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER, distance: 0 },
      }));
      await write(schema, rows);
      await write(flightsSchema, extremes);
      for (const r of rows) expect(await store().get(schema, r.eventId)).toEqual(stored(schema, r));
      for (const r of extremes)
        expect(await store().get(flightsSchema, r.eventId)).toEqual(stored(flightsSchema, r));
      expect(await all(schema)).toEqual(
        expectedList(
          schema,
          rows.map((r) => stored(schema, r)),
          listQuery({}),
        ),
      );
    });
  });
}
