import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BigQueryJob, BigQueryRow } from '../src/adapters/bigquery/clients.ts';
import { type BigQueryStoreOptions, createBigQueryStore } from '../src/adapters/bigquery/store.ts';
import { MAX_REQUEST_BYTES } from '../src/adapters/bigquery/writer.ts';
import type { DatasetSchema } from '../src/core/dataset-schema.ts';
import { bigqueryTableResource, bigqueryTables } from '../src/core/derive/bigquery-schema.ts';
import type { DuctoError } from '../src/core/errors.ts';
import { microsToIso } from '../src/core/time.ts';
import type { EventRow, ListQuery, RejectedRow, StatsQuery } from '../src/core/warehouse.ts';
import { ROOT } from '../support/root.ts';
import { flights } from './helpers/schemas.ts';
import {
  decodeRows,
  fakeBigQuery,
  fakeWriter,
  grpcError,
  type Respond,
  type SentJob,
} from './support/fake-bigquery.ts';

// ---------------------------------------------------------------------------------------------------

const UPDATE = process.env.UPDATE_GOLDEN === '1';
const GOLDEN = join(ROOT, 'test/golden/bigquery-jobs');
const DAY = 86_400_000_000;
const NOW = Date.UTC(2024, 2, 15, 13, 45) * 1000;
// The default window ends at the start of the day after tomorrow (UTC).
const WINDOW_END = Date.UTC(2024, 2, 17) * 1000;
const T0 = Date.UTC(2024, 2, 10) * 1000;
const CAP = 3 * 1024 ** 3;

function setup(
  options: Partial<BigQueryStoreOptions> = {},
  answer?: (job: BigQueryJob) => BigQueryRow[] | Error,
  respond?: Respond,
) {
  const bq = fakeBigQuery(answer);
  const w = fakeWriter(respond);
  const sleeps: number[] = [];
  const store = createBigQueryStore({
    bigquery: bq.client,
    writer: w.client,
    project: 'ducto-test',
    dataset: 'ducto',
    location: 'EU',
    maximumBytesBilled: CAP,
    queryTimeoutMs: 7_000,
    now: () => NOW,
    retry: { attempts: 4, baseDelayMs: 100, maxDelayMs: 300 },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...options,
  });
  return { store, bq, w, sleeps };
}

const list = (q: Partial<ListQuery>): ListQuery => ({
  filters: [],
  order: 'asc',
  limit: 100,
  after: null,
  fields: null,
  ...q,
});

async function drain(stream: AsyncIterable<unknown[]>): Promise<unknown[][]> {
  const chunks: unknown[][] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

type Store = ReturnType<typeof setup>['store'];

/** One adapter call per query shape the API and the operations use. */
const shapes: Record<string, (store: Store, s: DatasetSchema) => Promise<unknown>> = {
  'list-default-window': (st, s) => st.list(s, list({})),
  'list-from-to': (st, s) =>
    st.list(
      s,
      list({
        filters: [
          { field: 'date', op: 'gte', values: [T0] },
          { field: 'date', op: 'lt', values: [T0 + 3 * DAY] },
          { field: 'origin', op: 'in', values: ['LAX', 'SFO'] },
        ],
      }),
    ),
  'list-desc-keyset': (st, s) =>
    st.list(
      s,
      list({
        order: 'desc',
        limit: 26,
        after: { time: T0 + 5_000_123, eventId: 'ev-cursor' },
        filters: [{ field: 'delay', op: 'gte', values: [15] }],
      }),
    ),
  stream: (st, s) => drain(st.stream(s, list({ limit: null, fields: ['delay'] }))),
  get: (st, s) => st.get(s, 'ev-wanted'),
  stats: (st, s) =>
    st.stats(s, {
      filters: [{ field: 'date', op: 'gte', values: [T0] }],
      groupBy: ['origin'],
      bucket: 'day',
    } satisfies StatsQuery),
  freshness: (st, s) => st.freshness(s),
  count: (st, s) => st.count(s),
  rejected: (st, s) => st.rejected(s, 20),
};

async function sentBy(shape: string): Promise<SentJob> {
  const { store, bq } = setup();
  const schema = flights();
  await shapes[shape]!(store, schema);
  expect(bq.sent).toHaveLength(1);
  return bq.sent[0]!;
}

function render({ via, job, timeoutMs }: SentJob): string {
  const { query, params, types, ...rest } = job;
  const lines = Object.keys(params ?? {}).map(
    (name) => `-- @${name} ${types?.[name]} ${JSON.stringify(params![name])}`,
  );
  return `${query}\n\n-- ${via} ${JSON.stringify({ ...rest, timeoutMs })}\n${lines.join('\n')}\n`;
}

/** The partition filter a query's SQL carries: `col >= @a AND col < @b` with both bound as TIMESTAMP. */
function partitionFilter(job: BigQueryJob): { column: string; from: string; to: string } | null {
  const m = /`(date|received_at)` >= @(p\d+) AND `\1` < @(p\d+)/.exec(job.query);
  if (!m || job.types?.[m[2]!] !== 'TIMESTAMP' || job.types?.[m[3]!] !== 'TIMESTAMP') return null;
  const iso = (name: string) => (job.params![name] as { value: string }).value;
  return { column: m[1]!, from: iso(m[2]!), to: iso(m[3]!) };
}

describe('BigQuery store: what each query sends', () => {
  it.each(Object.keys(shapes))('%s matches its golden job', async (shape) => {
    const actual = render(await sentBy(shape));
    const file = join(GOLDEN, `${shape}.sql`);
    if (UPDATE) {
      mkdirSync(GOLDEN, { recursive: true });
      writeFileSync(file, actual);
    }
    expect(actual).toBe(readFileSync(file, 'utf8'));
  });

  it('there is a golden job for every shape, and no stale one', () => {
    expect(readdirSync(GOLDEN).sort()).toEqual(
      Object.keys(shapes)
        .map((s) => `${s}.sql`)
        .sort(),
    );
  });

  it.each(Object.keys(shapes))(
    '%s carries the byte cap, short-query mode, a label and the timeout',
    async (shape) => {
      const { via, job, timeoutMs } = await sentBy(shape);
      expect(job).toMatchObject({
        maximumBytesBilled: String(CAP),
        jobCreationMode: 'JOB_CREATION_OPTIONAL',
        useLegacySql: false,
        location: 'EU',
        labels: { app: 'ducto' },
      });
      if (via === 'query') expect(timeoutMs).toBe(7_000);
      else expect(job.maxResults).toBeGreaterThan(0);
    },
  );

  it.each(Object.keys(shapes))('%s filters on the partition column', async (shape) => {
    const { job } = await sentBy(shape);
    const filter = partitionFilter(job);
    expect(filter).not.toBeNull();
    expect(filter!.column).toBe(shape === 'rejected' ? 'received_at' : 'date');
  });

  it.each(Object.keys(shapes))('%s binds every value by name and writes none into the SQL', async (shape) => {
    const { job } = await sentBy(shape);
    const placeholders = new Set([...job.query.matchAll(/@(\w+)/g)].map((m) => m[1]));
    expect(placeholders).toEqual(new Set(Object.keys(job.params ?? {})));
    expect(new Set(Object.keys(job.types ?? {}))).toEqual(placeholders);
    // No literal but the time zone of TIMESTAMP_TRUNC, which no request chooses.
    expect(job.query.replaceAll("'UTC'", '')).not.toMatch(/\?|'|"/);
    for (const value of Object.values(job.params ?? {})) {
      const text = typeof value === 'object' ? (value as { value: string }).value : String(value);
      if (text.length >= 2) expect(job.query).not.toContain(text);
    }
  });

  it('ping sends the cap too, and reads no table', async () => {
    const { store, bq } = setup();
    await store.ping();
    expect(bq.sent[0]!.job).toMatchObject({ query: 'SELECT 1', maximumBytesBilled: String(CAP) });
  });
});

describe('BigQuery store: the time range a query scans', () => {
  const schema = flights();
  // RFC 3339 with up to 6 fraction digits, to µs (Date.parse stops at ms).
  const micros = (iso: string) => {
    const [, base, fraction = ''] = /^(.*?)(?:\.(\d+))?Z$/.exec(iso)!;
    return Date.parse(`${base}Z`) * 1000 + Number(fraction.padEnd(6, '0'));
  };
  const range = (job: BigQueryJob) => {
    const f = partitionFilter(job)!;
    return [micros(f.from), micros(f.to)];
  };

  it('without from/to: the last 7 days up to today, and tomorrow, in whole UTC days', async () => {
    const { store, bq } = setup();
    await store.list(schema, list({}));
    expect(range(bq.sent[0]!.job)).toEqual([WINDOW_END - 8 * DAY, WINDOW_END]);
  });

  it('from/to given: exactly that range; only to: the 7 days before it', async () => {
    const { store, bq } = setup();
    const gte = { field: 'date', op: 'gte' as const, values: [T0] };
    const lt = { field: 'date', op: 'lt' as const, values: [T0 + 2 * DAY] };
    await store.list(schema, list({ filters: [gte, lt] }));
    await store.stats(schema, { filters: [lt], groupBy: [], bucket: null });
    expect(range(bq.sent[0]!.job)).toEqual([T0, T0 + 2 * DAY]);
    expect(range(bq.sent[1]!.job)).toEqual([T0 + 2 * DAY - 7 * DAY, T0 + 2 * DAY]);
  });

  it('refuses a range longer than the maximum before sending anything', async () => {
    const { store, bq } = setup({ maxRangeDays: 7 });
    const old = { field: 'date', op: 'gte' as const, values: [NOW - 8 * DAY] };
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 'answered',
        (e: DuctoError) => e.code,
      );
    expect(await code(store.list(schema, list({ filters: [old] })))).toBe('bad_parameter');
    expect(
      await code(
        store.stats(schema, {
          filters: [old, { field: 'date', op: 'lt', values: [NOW] }],
          groupBy: [],
          bucket: null,
        }),
      ),
    ).toBe('bad_parameter');
    expect(bq.sent).toEqual([]);
    // Exactly the last 7 days is allowed, though the window's end is padded past now.
    await store.list(schema, list({ filters: [{ field: 'date', op: 'gte', values: [NOW - 7 * DAY] }] }));
    expect(range(bq.sent[0]!.job)).toEqual([NOW - 7 * DAY, WINDOW_END]);
  });

  it('a later page scans only from its cursor on (ascending) or up to it (descending)', async () => {
    const { store, bq } = setup();
    const after = { time: NOW - 2 * DAY, eventId: 'ev-9' };
    await store.list(schema, list({ after }));
    await store.list(schema, list({ after, order: 'desc' }));
    expect(range(bq.sent[0]!.job)).toEqual([after.time, WINDOW_END]);
    expect(range(bq.sent[1]!.job)).toEqual([WINDOW_END - 8 * DAY, after.time + 1]);
  });

  it('get and count look back the maximum range (31 days), freshness 2 days', async () => {
    const { store, bq } = setup();
    await store.get(schema, 'x-1');
    await store.count(schema);
    await store.freshness(schema);
    expect(bq.sent.map((s) => range(s.job))).toEqual([
      [WINDOW_END - 32 * DAY, WINDOW_END],
      [WINDOW_END - 32 * DAY, WINDOW_END],
      [WINDOW_END - 3 * DAY, WINDOW_END],
    ]);
  });

  it('with no maximum, a query without from/to still carries the filter, over every partition', async () => {
    const { store, bq } = setup({ defaultRangeDays: null, maxRangeDays: null, freshnessDays: null });
    await store.list(schema, list({}));
    await store.freshness(schema);
    const all = [microsToIso(-Number.MAX_SAFE_INTEGER), microsToIso(Number.MAX_SAFE_INTEGER)];
    for (const s of bq.sent) {
      const f = partitionFilter(s.job)!;
      expect([f.from, f.to]).toEqual(all);
    }
  });
});

describe('BigQuery store: reading results', () => {
  const schema = flights();

  it('returns rows as BigQuery answers them (times already µs), and stats and freshness the same way', async () => {
    const event = { event_id: 'a', date: T0 + 1, delay: 5, distance: 10, origin: 'LAX', destination: 'SFO' };
    const { store } = setup({}, (job) => {
      const label = job.labels.query;
      if (label === 'freshness') return [{ newest_event_time: T0 + 7, newest_ingested_at: null }];
      if (label === 'count') return [{ count: 12 }];
      if (label === 'stats') return [{ origin: 'LAX', count: 3 }];
      return [event];
    });
    expect(await store.list(schema, list({}))).toEqual([event]);
    expect(await store.get(schema, 'a')).toEqual(event);
    expect(await store.stats(schema, { filters: [], groupBy: ['origin'], bucket: null })).toEqual([
      { origin: 'LAX', count: 3 },
    ]);
    expect(await store.freshness(schema)).toEqual({ newestEventTime: T0 + 7, newestIngestedAt: null });
    expect(await store.count(schema)).toBe(12);
  });

  it('get answers null when nothing matches', async () => {
    const { store } = setup();
    expect(await store.get(schema, 'missing')).toBeNull();
  });

  it('reads rejected rows back: raw payload bytes, attributes parsed', async () => {
    const { store } = setup({}, () => [
      {
        message_id: 'm-1',
        event_id: null,
        code: 'not_json',
        detail: 'd',
        payload: Buffer.from([0xff, 0x00]),
        attributes: '{"a":"ü"}',
        publish_time: null,
        received_at: T0,
        replayed_at: T0 + 5,
        replay_outcome: 'rejected',
      },
    ]);
    expect(await store.rejected(schema, 5)).toEqual([
      {
        messageId: 'm-1',
        eventId: null,
        code: 'not_json',
        detail: 'd',
        payload: new Uint8Array([0xff, 0x00]),
        attributes: { a: 'ü' },
        publishTime: null,
        receivedAt: T0,
        replayedAt: T0 + 5,
        replayOutcome: 'rejected',
      },
    ]);
  });

  it('replays only rejected rows older than 30 minutes (DML cannot change younger Storage Write API rows)', async () => {
    const { store, bq } = setup();
    await store.replayable(schema, { codes: ['not_json'], from: null, to: null, after: null, limit: 10 });
    await store.replayable(schema, {
      codes: null,
      from: null,
      to: NOW - 3_600_000_000,
      after: null,
      limit: 10,
    });
    const tos = bq.sent.map((j) => partitionFilter(j.job)?.to);
    expect(tos).toEqual([microsToIso(NOW - 30 * 60_000_000), microsToIso(NOW - 3_600_000_000)]);
    expect(render(bq.sent[0]!)).toContain('`replay_outcome` IS NULL');
  });

  it('marks replayed rows with one UPDATE per outcome and reason, bound to their partitions', async () => {
    const { store, bq } = setup();
    const at = NOW;
    await store.markReplayed(schema, [
      { messageId: 'a', receivedAt: T0, outcome: 'stored', at, code: 'not_json', detail: 'x' },
      // Another reason, the same outcome: stored rows keep their reasons, so one statement.
      { messageId: 'b', receivedAt: T0 + DAY, outcome: 'stored', at, code: 'missing_field', detail: 'z' },
      { messageId: 'c', receivedAt: T0, outcome: 'rejected', at, code: 'wrong_type', detail: 'y' },
    ]);
    expect(bq.sent.map((j) => j.job.query.split('\n')[0])).toEqual([
      expect.stringMatching(/^UPDATE `[^`]+\.flights_rejected`$/),
      expect.stringMatching(/^UPDATE `[^`]+\.flights_rejected`$/),
    ]);
    const first = bq.sent[0]!.job;
    expect(first.query).toContain('`message_id` IN (@p2, @p3)');
    expect(first.query).not.toContain('`code` =');
    expect(Object.values(first.params ?? {})).toEqual(expect.arrayContaining(['stored', 'a', 'b']));
    const second = bq.sent[1]!.job;
    expect(second.query).toContain('`code` = ');
    expect(Object.values(second.params ?? {})).toEqual(
      expect.arrayContaining(['rejected', 'wrong_type', 'y', 'c']),
    );
    expect(partitionFilter(first)).toMatchObject({
      column: 'received_at',
      from: microsToIso(T0),
      to: microsToIso(T0 + DAY + 1),
    });
  });

  it('streams in chunks of at most 1000 rows, pulling pages as it goes', async () => {
    const rows = Array.from({ length: 2500 }, (_, i) => ({ event_id: `e${i}`, date: T0 + i }));
    const { store, bq } = setup({}, () => rows);
    const chunks = await drain(store.stream(schema, list({ limit: null })));
    expect(chunks.map((c) => c.length)).toEqual([1000, 1000, 500]);
    expect(chunks.flat()).toEqual(rows);
    expect(bq.sent[0]!.via).toBe('stream');
  });

  it('an abandoned stream is destroyed, and so is one still open at close', async () => {
    const rows = Array.from({ length: 3000 }, (_, i) => ({ event_id: `e${i}` }));
    const { store, bq } = setup({}, () => rows);
    for await (const chunk of store.stream(schema, list({ limit: null }))) {
      expect(chunk).toHaveLength(1000);
      break;
    }
    expect(bq.streams[0]!.destroyed).toBe(true);
    const open = store.stream(schema, list({ limit: null }))[Symbol.asyncIterator]();
    await open.next();
    await store.close();
    expect(bq.streams[1]!.destroyed).toBe(true);
  });

  it('maps BigQuery failures to stable codes; an invalid query stays a bug', async () => {
    const apiError = (code: number, reason: string) =>
      Object.assign(new Error(reason), { code, errors: [{ reason, message: reason }] });
    const cases: Array<[Error, string | null]> = [
      [apiError(400, 'bytesBilledLimitExceeded'), 'result_too_large'],
      [new Error('The query did not complete before 7000ms'), 'query_timeout'],
      [apiError(503, 'backendError'), 'warehouse_unavailable'],
      [apiError(403, 'accessDenied'), 'warehouse_unavailable'],
      [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'warehouse_unavailable'],
      [apiError(400, 'invalidQuery'), null],
    ];
    for (const [error, code] of cases) {
      const { store } = setup({}, () => error);
      const got = await store.list(schema, list({})).then(
        () => 'answered',
        (e: Error & { code?: unknown }) => (e.name === 'DuctoError' ? e.code : null),
      );
      expect({ error: error.message, got }).toEqual({ error: error.message, got: code });
    }
    const { store } = setup({}, () => apiError(503, 'backendError'));
    const failed = await drain(store.stream(schema, list({ limit: null }))).catch((e: DuctoError) => e.code);
    expect(failed).toBe('warehouse_unavailable');
  });
});

describe('BigQuery store: ensure', () => {
  it('creates missing tables from the derived schema (partitioned, clustered, filter required) and keeps existing ones', async () => {
    const { store, bq } = setup();
    const schema = flights();
    bq.existing.add('flights');
    bq.fieldsOf.set('flights', bigqueryTables(schema).events.schema);
    await store.ensure([schema]);
    const { rejected } = bigqueryTables(schema);
    expect(bq.created).toEqual([
      { dataset: 'ducto', id: 'flights_rejected', resource: bigqueryTableResource(rejected) },
    ]);
    expect(bq.updated).toEqual([]);
    expect(bigqueryTableResource(bigqueryTables(schema).events)).toMatchObject({
      timePartitioning: { type: 'DAY', field: 'date' },
      requirePartitionFilter: true,
      clustering: { fields: ['origin', 'destination'] },
    });
  });

  it('adds the nullable columns a later release added to a table made before it, and nothing else', async () => {
    const { store, bq } = setup();
    const schema = flights();
    const { events, rejected } = bigqueryTables(schema);
    const before = rejected.schema.filter((f) => f.name !== 'replayed_at' && f.name !== 'replay_outcome');
    bq.existing.add('flights');
    bq.existing.add('flights_rejected');
    bq.fieldsOf.set('flights', events.schema);
    bq.fieldsOf.set('flights_rejected', before);
    await store.ensure([schema]);
    expect(bq.created).toEqual([]);
    expect(bq.updated.map((u) => u.id)).toEqual(['flights_rejected']);
    const fields = (bq.updated[0]!.metadata.schema as { fields: Array<{ name: string; mode: string }> })
      .fields;
    expect(fields.map((f) => f.name)).toEqual([
      ...before.map((f) => f.name),
      'replayed_at',
      'replay_outcome',
    ]);
    expect(fields.slice(before.length).every((f) => f.mode === 'NULLABLE')).toBe(true);
    // A REQUIRED column cannot be added to rows that exist: it is never added.
    const again = setup();
    again.bq.existing.add('flights');
    again.bq.existing.add('flights_rejected');
    again.bq.fieldsOf.set(
      'flights',
      events.schema.filter((f) => f.name !== 'delay'),
    );
    again.bq.fieldsOf.set('flights_rejected', rejected.schema);
    await again.store.ensure([schema]);
    expect(again.bq.updated).toEqual([]);
  });

  it('tolerates a table created meanwhile by another instance, and reports other failures', async () => {
    const a = setup();
    a.bq.failCreate(Object.assign(new Error('Already Exists'), { code: 409 }));
    await a.store.ensure([flights()]);
    const b = setup();
    b.bq.failCreate(Object.assign(new Error('Access Denied'), { code: 403 }));
    await expect(b.store.ensure([flights()])).rejects.toMatchObject({ code: 'warehouse_unavailable' });
  });
});

// ---------------------------------------------------------------------------------------------------

function event(i: number, fields: Record<string, unknown> = {}): EventRow {
  return {
    eventId: `ev-${i}`,
    fields: {
      date: T0 + i * 1_000_001,
      delay: i - 3,
      distance: 100 + i,
      origin: 'LAX',
      destination: 'JFK',
      ...fields,
    } as EventRow['fields'],
    publishTime: i % 2 ? null : T0 + i,
    ingestedAt: NOW + i,
  };
}

function stored(row: EventRow) {
  return {
    ...row.fields,
    event_id: row.eventId,
    publish_time: row.publishTime ?? undefined,
    ingested_at: row.ingestedAt,
  };
}

async function ready(...args: Parameters<typeof setup>) {
  const s = setup(...args);
  await s.store.ensure([flights()]);
  return s;
}

describe('BigQuery store: writes through the Storage Write API', () => {
  const write = (store: Store, rows: EventRow[], rejected: RejectedRow[] = []) =>
    store.write({ dataset: 'flights', rows, rejected });

  it('appends to the default stream of each table, over one connection per table reused by every batch', async () => {
    const { store, w } = await ready();
    await write(store, [event(1)]);
    await write(store, [event(2)]);
    await write(store, [event(3), event(4)]);
    const table = 'projects/ducto-test/datasets/ducto/tables/flights';
    expect(w.connections.map((c) => [c.streamId, c.destinationTable])).toEqual([
      [`${table}/streams/_default`, table],
    ]);
    expect(w.connections[0]!.errorListeners).toBe(1);
    expect(w.requests.map((r) => r.writeStream)).toEqual(Array(3).fill(`${table}/streams/_default`));
    expect(w.requests.map(decodeRows)).toEqual([
      [stored(event(1))],
      [stored(event(2))],
      [stored(event(3)), stored(event(4))],
    ]);
  });

  it('sends each event once per batch, refuses a row that does not fit its columns, and cannot tell duplicates', async () => {
    const { store, w } = await ready();
    const bad = event(2, { delay: 'late' });
    const result = await write(store, [event(1), bad, event(3), event(1)]);
    expect(result).toEqual({
      inserted: null,
      refused: [{ eventId: 'ev-2', code: 'warehouse_rejected', detail: 'delay is not a integer' }],
      retries: 0,
    });
    expect(decodeRows(w.requests[0]!)).toEqual([stored(event(1)), stored(event(3))]);
  });

  it('writes rejected rows to <dataset>_rejected with the raw bytes and the attributes as JSON', async () => {
    const { store, w } = await ready();
    const rejected: RejectedRow = {
      messageId: 'm-1',
      eventId: 'ev-x',
      code: 'invalid_utf8',
      detail: 'the message data is not valid UTF-8',
      payload: new Uint8Array([0xff, 0xfe, 0x00, 0x80]),
      attributes: { event_id: 'ev-x', note: 'ü"' },
      publishTime: T0,
      receivedAt: NOW,
    };
    await write(store, [], [rejected]);
    expect(w.connections.map((c) => c.destinationTable)).toEqual([
      'projects/ducto-test/datasets/ducto/tables/flights_rejected',
    ]);
    expect(decodeRows(w.requests[0]!)).toEqual([
      {
        message_id: 'm-1',
        event_id: 'ev-x',
        code: 'invalid_utf8',
        detail: 'the message data is not valid UTF-8',
        payload: [0xff, 0xfe, 0x00, 0x80],
        attributes: '{"event_id":"ev-x","note":"ü\\""}',
        publish_time: T0,
        received_at: NOW,
      },
    ]);
  });

  it('retries transient failures with growing, jittered backoff, then succeeds', async () => {
    const { store, w, sleeps } = await ready({}, undefined, async (_, n) => {
      if (n === 1) throw grpcError(14, 'UNAVAILABLE');
      if (n === 2) return { error: { code: 8, message: 'RESOURCE_EXHAUSTED' } };
      if (n === 3) throw grpcError(4, 'DEADLINE_EXCEEDED');
      return { appendResult: {} };
    });
    const result = await write(store, [event(1), event(2)]);
    expect(result.refused).toEqual([]);
    // Reported to the batcher, so ducto_warehouse_write_retries_total counts BigQuery's retries too.
    expect(result.retries).toBe(3);
    expect(w.requests).toHaveLength(4);
    for (const r of w.requests) expect(decodeRows(r)).toEqual([stored(event(1)), stored(event(2))]);
    expect(sleeps).toHaveLength(3);
    sleeps.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThanOrEqual(Math.min(300, 100 * 2 ** i));
    });
  });

  it('retries INTERNAL and ABORTED too, and gives up after the configured attempts', async () => {
    const { store, w, sleeps } = await ready({}, undefined, async (_, n) => {
      throw grpcError(n % 2 ? 13 : 10);
    });
    await expect(write(store, [event(1)])).rejects.toMatchObject({
      code: 'warehouse_unavailable',
      message: expect.stringContaining('after 4 attempts'),
    });
    expect(w.requests).toHaveLength(4);
    expect(sleeps).toHaveLength(3);
  });

  it('does not retry a failure that is not transient', async () => {
    const { store, w, sleeps } = await ready({}, undefined, async () => {
      throw grpcError(7, 'PERMISSION_DENIED');
    });
    await expect(write(store, [event(1)])).rejects.toMatchObject({ code: 'warehouse_unavailable' });
    expect(w.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('a row BigQuery refuses is refused alone: the rest of the request is sent again without it', async () => {
    const { store, w, sleeps } = await ready({}, undefined, async (_, n) =>
      n === 1
        ? {
            error: { code: 3, message: 'INVALID_ARGUMENT' },
            rowErrors: [{ index: 1, code: 1, message: 'bad value' }],
          }
        : { appendResult: {} },
    );
    const rows = [event(1), event(2), event(3)];
    const result = await write(store, rows);
    expect(result.refused).toEqual([{ eventId: 'ev-2', code: 'warehouse_rejected', detail: 'bad value' }]);
    expect(decodeRows(w.requests[1]!)).toEqual([stored(event(1)), stored(event(3))]);
    expect(w.requests).toHaveLength(2);
    expect(sleeps).toEqual([]);
  });

  it('fails the batch when the rejected table refuses a row, so its message is redelivered', async () => {
    const { store } = await ready({}, undefined, async (request) =>
      request.writeStream?.includes('flights_rejected')
        ? { error: { code: 3, message: 'x' }, rowErrors: [{ index: 0, message: 'too large' }] }
        : { appendResult: {} },
    );
    const rejected: RejectedRow = {
      messageId: 'm',
      eventId: null,
      code: 'not_json',
      detail: 'd',
      payload: null,
      attributes: {},
      publishTime: null,
      receivedAt: NOW,
    };
    await expect(write(store, [event(1)], [rejected])).rejects.toMatchObject({
      code: 'warehouse_unavailable',
    });
  });

  it('splits a batch into append requests under the 10 MB request limit', async () => {
    const { store, w } = await ready();
    const big = (i: number): RejectedRow => ({
      messageId: `m-${i}`,
      eventId: null,
      code: 'oversize',
      detail: 'd',
      payload: new Uint8Array(1024 * 1024).fill(i),
      attributes: {},
      publishTime: null,
      receivedAt: NOW,
    });
    await write(
      store,
      [],
      Array.from({ length: 20 }, (_, i) => big(i)),
    );
    expect(w.requests.length).toBeGreaterThan(2);
    for (const r of w.requests) {
      const bytes = r.protoRows!.rows!.serializedRows!.reduce((n, b) => n + b.length, 0);
      expect(bytes).toBeLessThan(MAX_REQUEST_BYTES);
    }
    expect(w.requests.flatMap(decodeRows).map((r) => r.message_id)).toEqual(
      Array.from({ length: 20 }, (_, i) => `m-${i}`),
    );
  });

  it('an append that gets no answer is abandoned: the connection is replaced and the rows sent again', async () => {
    const { store, w } = await ready({ appendTimeoutMs: 20 }, undefined, (_, n) =>
      n === 1 ? new Promise(() => {}) : Promise.resolve({ appendResult: {} }),
    );
    await write(store, [event(1)]);
    expect(w.requests).toHaveLength(2);
    expect(w.connections).toHaveLength(2);
    expect(w.connections[0]!.closed).toBe(true);
    expect(w.connections[1]!.closed).toBe(false);
  });

  it('stops retrying when the retry budget (kept under the ack deadline) is spent, even with attempts left', async () => {
    // Every append hangs: each attempt is cut at what is left of the 60 ms budget, not at 30 s.
    const { store, w } = await ready(
      { appendTimeoutMs: 30_000, retry: { attempts: 100, baseDelayMs: 1, maxDelayMs: 1, budgetMs: 60 } },
      undefined,
      () => new Promise(() => {}),
    );
    await expect(write(store, [event(1)])).rejects.toMatchObject({
      code: 'warehouse_unavailable',
      message: expect.stringContaining('retry budget of 60 ms spent'),
    });
    expect(w.requests.length).toBeGreaterThanOrEqual(1);
    expect(w.requests.length).toBeLessThan(100);
  });

  it('close waits for a write in flight, then closes the connections and the client it owns', async () => {
    let release: (() => void) | undefined;
    const { store, w } = await ready({ closeClients: true }, undefined, (_, n) =>
      n === 1
        ? new Promise((resolve) => (release = () => resolve({ appendResult: {} })))
        : Promise.resolve({}),
    );
    const writing = write(store, [event(1)]);
    await new Promise((r) => setTimeout(r, 5));
    const closing = store.close();
    let closed = false;
    void closing.then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 5));
    expect(closed).toBe(false);
    release!();
    await writing;
    await closing;
    expect(w.connections.every((c) => c.closed)).toBe(true);
    expect(w.closed).toBe(true);
    await expect(write(store, [event(2)])).rejects.toMatchObject({ code: 'warehouse_unavailable' });
  });

  it('leaves the client open when it does not own it', async () => {
    const { store, w } = await ready();
    await write(store, [event(1)]);
    await store.close();
    expect(w.closed).toBe(false);
  });
});

describe('no legacy streaming insert', () => {
  function files(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
      d.isDirectory() ? files(join(dir, d.name)) : [join(dir, d.name)],
    );
  }

  it('nothing under src/ calls insertAll (tabledata.insertAll) or Table#insert', () => {
    const offenders = files(join(ROOT, 'src'))
      .filter((f) => /\.[cm]?[jt]s$/.test(f))
      .filter((f) =>
        /\binsertAll\b|tabledata|\.insert\s*\(|\bcreateInsertStream\b/.test(readFileSync(f, 'utf8')),
      )
      .map((f) => relative(ROOT, f));
    expect(offenders).toEqual([]);
  });

  it('the check itself finds a legacy call', () => {
    expect(
      /\binsertAll\b|tabledata|\.insert\s*\(/.test('await bigquery.dataset(d).table(t).insert(rows)'),
    ).toBe(true);
  });
});
