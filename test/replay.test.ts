/**
 * `ducto replay --rejected` on DuckDB: events rejected under one schema are recovered after the schema
 * changes, stored once under the event id ingest would have given them, their rejected rows marked; a
 * second replay moves nothing; what still fails stays with its reason; a replay that dies between its
 * write and its mark loses nothing and stores nothing twice when run again.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckDB } from '../src/adapters/duckdb/open.ts';
import { createDuckDBStore } from '../src/adapters/duckdb/store.ts';
import { readConfig } from '../src/config.ts';
import { classify, ORIGINAL_MESSAGE_ID } from '../src/core/classify.ts';
import { type DatasetSchema, parseDatasetSchema } from '../src/core/dataset-schema.ts';
import { decodeDelivery, encodePushEnvelope } from '../src/core/delivery.ts';
import { DuctoError } from '../src/core/errors.ts';
import type { RecordResult } from '../src/core/record.ts';
import { replayRejected } from '../src/core/replay.ts';
import type { Warehouse } from '../src/core/warehouse.ts';
import { createLogger } from '../src/logger.ts';
import { buildRuntime } from '../src/runtime.ts';
import { ROOT } from '../support/root.ts';

const quiet = createLogger('silent');

/** flights with `delay` capped at `max` minutes: a producer sending longer delays is rejected. */
function flightsWithMaxDelay(max: number): DatasetSchema {
  const raw = JSON.parse(readFileSync(join(ROOT, 'schemas/flights.json'), 'utf8')) as {
    fields: Array<Record<string, unknown>>;
  };
  for (const f of raw.fields) if (f.name === 'delay') f.maximum = max;
  return parseDatasetSchema(raw);
}

const record = (delay: number, origin = 'LAX') =>
  JSON.stringify({ date: '2001-01-02T03:04:00Z', delay, distance: 100, origin, destination: 'SFO' });

const delivery = (data: string, messageId: string, attributes: Record<string, string>) =>
  decodeDelivery(JSON.parse(encodePushEnvelope(data, messageId, attributes)));

describe('the event id of a replayed message', () => {
  const decode = (data: Uint8Array): RecordResult => ({
    ok: true,
    fields: { n: data.length },
    time: 0,
    key: null,
  });
  it('is the event_id attribute, else the message id it first had, else its own message id', () => {
    const data = new Uint8Array([1]);
    const of = (attributes: Record<string, string>) => {
      const c = classify({ data, attributes, messageId: 'm-new' }, decode, 'flights');
      return c.ok ? c.eventId : c.code;
    };
    expect(of({ event_id: 'e-1', [ORIGINAL_MESSAGE_ID]: 'm-old' })).toBe('e-1');
    expect(of({ [ORIGINAL_MESSAGE_ID]: 'm-old' })).toBe('m-old');
    expect(of({})).toBe('m-new');
  });
});

describe('replay of rejected events (DuckDB)', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ducto-replay-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** Ingests under the strict schema, then returns a runtime on the same file under the relaxed one. */
  async function rejectedThenRelaxed(name: string) {
    const db = join(dir, `${name}.duckdb`);
    const config = readConfig({ DUCTO_DB: db, LOG_LEVEL: 'silent' });
    const strict = await buildRuntime(config, {
      logger: quiet,
      schemas: new Map([['flights', flightsWithMaxDelay(100)]]),
    });
    const outcomes = [];
    // Ten late flights (rejected now, valid after the change), one with an event_id, one keyed by message id.
    for (let i = 0; i < 10; i++)
      outcomes.push(
        await strict.app.ingest(
          delivery(record(500 + i), `m-${i}`, { dataset: 'flights', event_id: `late-${i}` }),
          null,
        ),
      );
    outcomes.push(await strict.app.ingest(delivery(record(900), 'm-noid', { dataset: 'flights' }), null));
    // Invalid under both schemas: not JSON, and an out-of-range distance.
    outcomes.push(
      await strict.app.ingest(delivery('{nope', 'm-bad', { dataset: 'flights', event_id: 'bad' }), null),
    );
    outcomes.push(
      await strict.app.ingest(
        delivery(record(1, 'lax'), 'm-low', { dataset: 'flights', event_id: 'low' }),
        null,
      ),
    );
    // One valid flight, stored at once.
    outcomes.push(
      await strict.app.ingest(delivery(record(5), 'm-ok', { dataset: 'flights', event_id: 'ok' }), null),
    );
    expect(outcomes.map((o) => o.outcome)).toEqual([...Array(13).fill('rejected'), 'stored']);
    await strict.close();
    const relaxed = await buildRuntime(config, {
      logger: quiet,
      schemas: new Map([['flights', flightsWithMaxDelay(10_080)]]),
    });
    return relaxed;
  }

  const replay = (warehouse: Warehouse, schemas: ReadonlyMap<string, DatasetSchema>, extra = {}) =>
    replayRejected({
      warehouse,
      schemas,
      dataset: 'flights',
      maxMessageBytes: 1_000_000,
      codes: null,
      from: null,
      to: null,
      limit: null,
      dryRun: false,
      pageSize: 4,
      ...extra,
    });

  it('stores what passes now once, under the id ingest gives it, marks the rows, and moves nothing twice', async () => {
    const rt = await rejectedThenRelaxed('recover');
    const schema = rt.schemas.get('flights')!;
    expect(await rt.warehouse.count(schema)).toBe(1);

    const dry = await replay(rt.warehouse, rt.schemas, { dryRun: true });
    expect(dry).toMatchObject({ messages: 13, outcomes: { stored: 11, duplicate: 0, rejected: 2 } });
    expect(await rt.warehouse.count(schema)).toBe(1);
    expect((await rt.warehouse.rejected(schema, 100)).every((r) => r.replayOutcome === null)).toBe(true);

    const first = await replay(rt.warehouse, rt.schemas);
    expect(first).toMatchObject({ messages: 13, outcomes: { stored: 11, duplicate: 0, rejected: 2 } });
    expect(first.stillRejected).toEqual({ not_json: 1, bad_format: 1 });
    expect(await rt.warehouse.count(schema)).toBe(12);
    expect(await rt.warehouse.get(schema, 'late-3')).toMatchObject({ event_id: 'late-3', delay: 503 });
    // No event_id attribute and no schema key: the message id, as ingest would have done.
    expect(await rt.warehouse.get(schema, 'm-noid')).toMatchObject({ delay: 900 });

    const rows = await rt.warehouse.rejected(schema, 100);
    const byId = new Map(rows.map((r) => [r.messageId, r]));
    expect(byId.get('m-3')).toMatchObject({ replayOutcome: 'stored', code: 'out_of_range' });
    expect(byId.get('m-3')?.replayedAt).toBeGreaterThan(0);
    expect(byId.get('m-bad')).toMatchObject({ replayOutcome: 'rejected', code: 'not_json' });

    const second = await replay(rt.warehouse, rt.schemas);
    expect(second.outcomes).toEqual({ stored: 0, duplicate: 0, rejected: 2 });
    expect(await rt.warehouse.count(schema)).toBe(12);
    await rt.close();
  });

  it('marks every copy of a message rejected on two deliveries, even on different pages, and replays it once', async () => {
    const db = join(dir, 'copies.duckdb');
    const rt = await buildRuntime(readConfig({ DUCTO_DB: db, LOG_LEVEL: 'silent' }), {
      logger: quiet,
      schemas: new Map([['flights', flightsWithMaxDelay(10_080)]]),
    });
    const schema = rt.schemas.get('flights')!;
    const kept = (messageId: string, receivedAt: number) => ({
      messageId,
      eventId: `ev-${messageId}`,
      code: 'out_of_range' as const,
      detail: 'delay: too late',
      payload: new TextEncoder().encode(record(600)),
      attributes: { dataset: 'flights', event_id: `ev-${messageId}` },
      publishTime: null,
      receivedAt,
    });
    // m-a was delivered twice, far apart: its copies fall on different pages of two rows.
    await rt.warehouse.write({
      dataset: 'flights',
      rows: [],
      rejected: [kept('m-a', 1_000), kept('m-b', 2_000), kept('m-c', 3_000), kept('m-a', 4_000)],
    });
    const first = await replay(rt.warehouse, rt.schemas, { pageSize: 2 });
    expect(first).toMatchObject({ messages: 3, outcomes: { stored: 3, duplicate: 0, rejected: 0 } });
    const rows = await rt.warehouse.rejected(schema, 10);
    expect(rows.map((r) => [r.messageId, r.replayOutcome])).toEqual([
      ['m-a', 'stored'],
      ['m-c', 'stored'],
      ['m-b', 'stored'],
      ['m-a', 'stored'],
    ]);
    expect((await replay(rt.warehouse, rt.schemas, { pageSize: 2 })).messages).toBe(0);
    expect(await rt.warehouse.count(schema)).toBe(3);
    await rt.close();
  });

  it('a rejected table made by an earlier release gains the replay columns, and its rows replay', async () => {
    const { instance } = await openDuckDB(join(dir, 'old.duckdb'));
    const conn = await instance.connect();
    // The rejected table as releases before the replay columns created it.
    await conn.run(
      'CREATE TABLE "flights_rejected" (message_id VARCHAR NOT NULL, event_id VARCHAR, code VARCHAR NOT NULL, detail VARCHAR NOT NULL, payload BLOB, attributes JSON NOT NULL, publish_time TIMESTAMP, received_at TIMESTAMP NOT NULL)',
    );
    await conn.run(
      `INSERT INTO "flights_rejected" VALUES ('m-old', 'ev-old', 'out_of_range', 'late', encode('${record(600)}'), '{"dataset":"flights","event_id":"ev-old"}', NULL, TIMESTAMP '2001-01-01 00:00:00')`,
    );
    conn.closeSync();
    const store = createDuckDBStore(instance, { closeInstance: true });
    const schemas = new Map([['flights', flightsWithMaxDelay(10_080)]]);
    await store.ensure([...schemas.values()]);
    const result = await replay(store, schemas);
    expect(result).toMatchObject({ messages: 1, outcomes: { stored: 1 } });
    expect((await store.rejected(schemas.get('flights')!, 5))[0]).toMatchObject({ replayOutcome: 'stored' });
    await store.close();
  });

  it('filters by reason and stops at the limit', async () => {
    const rt = await rejectedThenRelaxed('filter');
    const schema = rt.schemas.get('flights')!;
    const some = await replay(rt.warehouse, rt.schemas, { codes: ['out_of_range'], limit: 3 });
    expect(some).toMatchObject({ messages: 3, outcomes: { stored: 3, duplicate: 0, rejected: 0 } });
    const rest = await replay(rt.warehouse, rt.schemas, { codes: ['out_of_range'] });
    expect(rest).toMatchObject({ messages: 8, outcomes: { stored: 8, duplicate: 0, rejected: 0 } });
    expect(await rt.warehouse.count(schema)).toBe(12);
    await expect(replay(rt.warehouse, rt.schemas, { dataset: 'nope' })).rejects.toThrow(DuctoError);
    await rt.close();
  });

  it('a replay that dies after writing and before marking stores each event once when run again', async () => {
    const rt = await rejectedThenRelaxed('crash');
    const schema = rt.schemas.get('flights')!;
    const dying: Warehouse = {
      ...rt.warehouse,
      replayable: (s, q) => rt.warehouse.replayable(s, q),
      write: (b) => rt.warehouse.write(b),
      markReplayed: async () => {
        throw new Error('killed between the write and the mark');
      },
    };
    await expect(replay(dying, rt.schemas)).rejects.toThrow(/killed/);
    // The first page was written, none of it marked.
    expect(await rt.warehouse.count(schema)).toBe(5);
    const again = await replay(rt.warehouse, rt.schemas);
    expect(again.outcomes).toEqual({ stored: 7, duplicate: 4, rejected: 2 });
    expect(await rt.warehouse.count(schema)).toBe(12);
    await rt.close();
  });
});
