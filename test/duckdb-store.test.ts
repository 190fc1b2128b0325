import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duckdbFailure } from '../src/adapters/duckdb/errors.ts';
import { openDuckDB } from '../src/adapters/duckdb/open.ts';
import { createDuckDBStore } from '../src/adapters/duckdb/store.ts';
import type { EventRow, RejectedRow, Warehouse } from '../src/core/warehouse.ts';
import { describeWarehouseContract } from './contract/warehouse-contract.ts';
import { flights } from './helpers/schemas.ts';

describeWarehouseContract('duckdb', async () => {
  // A file, not :memory:, so writes go through the WAL as they do in `npm start`.
  const dir = await mkdtemp(join(tmpdir(), 'ducto-duckdb-'));
  const store = createDuckDBStore((await openDuckDB(join(dir, 'contract.duckdb'))).instance);
  return { store, cleanup: () => store.close().finally(() => rm(dir, { recursive: true, force: true })) };
});

describeWarehouseContract('duckdb, one writer connection', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ducto-duckdb-'));
  const store = createDuckDBStore((await openDuckDB(join(dir, 'contract.duckdb'))).instance, {
    writeConnections: 1,
  });
  return { store, cleanup: () => store.close().finally(() => rm(dir, { recursive: true, force: true })) };
});

const T0 = Date.UTC(2001, 0, 1) * 1000;

function row(id: string, i: number): EventRow {
  return {
    eventId: id,
    fields: {
      date: T0 + i * 60_000_000,
      delay: i % 90,
      distance: 100 + i,
      origin: 'LAX',
      destination: 'SFO',
    },
    publishTime: T0 + i,
    ingestedAt: T0 + 2 * i,
  };
}

function rejectedRow(messageId: string): RejectedRow {
  return {
    messageId,
    eventId: null,
    code: 'invalid_utf8',
    detail: 'not UTF-8',
    payload: new Uint8Array([0xff, 0x00, 0x7b]),
    attributes: { k: 'v' },
    publishTime: null,
    receivedAt: T0,
  };
}

describe('DuckDB store: several writer connections', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ducto-duckdb-writers-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function open(name: string, writeConnections: number) {
    const { instance } = await openDuckDB(join(dir, `${name}.duckdb`));
    const store = createDuckDBStore(instance, { writeConnections });
    const schema = { ...flights(), name: `flights_${name}` };
    await store.ensure([schema]);
    return { store, schema };
  }

  const write = (store: Warehouse, dataset: string, rows: EventRow[], rejected: RejectedRow[] = []) =>
    store.write({ dataset, rows, rejected });

  it('batches in flight together that share ids store each id once, and report it inserted once', async () => {
    const { store, schema } = await open('overlap', 4);
    let sentRejected = 0;
    for (let round = 0; round < 25; round++) {
      // Ids new to the table, so overlapping batches race on keys none of them sees committed.
      const ids = Array.from({ length: 120 }, (_, i) => `r${round}-${i}`);
      const batches = Array.from({ length: 6 }, (_, b) =>
        ids.flatMap((id, i) => ((i * 7 + b * 13 + round) % 5 < 2 ? [row(id, i)] : [])),
      );
      // Some batches carry rejected rows too: they commit in an explicit transaction.
      const rejected = batches.map((_, b) => (b % 3 === 0 ? [rejectedRow(`m-${round}-${b}`)] : []));
      sentRejected += rejected.flat().length;
      const results = await Promise.all(batches.map((b, k) => write(store, schema.name, b, rejected[k])));
      const union = new Set(batches.flat().map((r) => r.eventId));
      const reported = results.flatMap((r) => [...r.inserted!]);
      expect(reported.length).toBe(union.size);
      expect(new Set(reported)).toEqual(union);
    }
    const all = await store.list(schema, {
      filters: [],
      order: 'asc',
      limit: 100_000,
      after: null,
      fields: [],
    });
    expect(new Set(all.map((e) => e.event_id)).size).toBe(all.length);
    expect(await store.count(schema)).toBe(all.length);
    expect((await store.rejected(schema, 10_000)).length).toBe(sentRejected);
    await store.close();
  });

  it('a redelivered batch racing its first copy inserts each id once', async () => {
    const { store, schema } = await open('redelivery', 2);
    for (let round = 0; round < 20; round++) {
      const rows = Array.from({ length: 64 }, (_, i) => row(`d${round}-${i}`, i));
      const [a, b] = await Promise.all([write(store, schema.name, rows), write(store, schema.name, rows)]);
      expect(a!.inserted!.size + b!.inserted!.size).toBe(64);
      expect(new Set([...a!.inserted!, ...b!.inserted!]).size).toBe(64);
    }
    expect(await store.count(schema)).toBe(20 * 64);
    await store.close();
  });

  it('close finishes the writes accepted before it; later ones are refused', async () => {
    const path = join(dir, 'closing.duckdb');
    const schema = { ...flights(), name: 'flights_closing' };
    const store = createDuckDBStore((await openDuckDB(path)).instance, { writeConnections: 2 });
    await store.ensure([schema]);
    const writes = Array.from({ length: 8 }, (_, b) =>
      write(
        store,
        schema.name,
        Array.from({ length: 50 }, (_, i) => row(`c${b}-${i}`, i)),
      ),
    );
    const closing = store.close();
    await expect(write(store, schema.name, [row('late', 1)])).rejects.toMatchObject({
      code: 'warehouse_unavailable',
    });
    const results = await Promise.all(writes);
    await closing;
    expect(results.every((r) => r.inserted!.size === 50)).toBe(true);
    const again = createDuckDBStore((await openDuckDB(path)).instance);
    await again.ensure([schema]);
    expect(await again.count(schema)).toBe(400);
    await again.close();
  });

  it('stores strings with lone surrogates as the UTF-8 conversion does (U+FFFD), without failing the batch', async () => {
    const { store, schema } = await open('surrogates', 2);
    const odd = {
      ...row('id-\ud800', 1),
      fields: { ...row('x', 1).fields, origin: 'A\udc00B', destination: 'x\u0000y' },
    };
    const result = await write(
      store,
      schema.name,
      [odd, row('plain', 2)],
      [{ ...rejectedRow('m-\ud800'), detail: 'd\udfff', attributes: { 'k\ud800': 'v\udc00' } }],
    );
    expect(result.inserted).toEqual(new Set(['id-\ud800', 'plain']));
    const stored = await store.get(schema, 'id-\ufffd');
    expect(stored).toMatchObject({ origin: 'A\ufffdB', destination: 'x\u0000y' });
    const [rej] = await store.rejected(schema, 1);
    expect(rej).toMatchObject({
      messageId: 'm-\ufffd',
      detail: 'd\ufffd',
      attributes: { 'k\ufffd': 'v\ufffd' },
    });
    expect([...rej!.payload!]).toEqual([0xff, 0x00, 0x7b]);
    // Redelivered: nothing new.
    expect((await write(store, schema.name, [odd])).inserted).toEqual(new Set());
    await store.close();
  });

  it('a write refused for memory (DUCTO_DUCKDB_MEMORY_LIMIT reached) fails as unavailable, never as the rows', async () => {
    const { instance } = await openDuckDB(join(dir, 'tight.duckdb'), { threads: 1, memoryLimit: '2MB' });
    const store = createDuckDBStore(instance);
    const schema = { ...flights(), name: 'flights_tight' };
    await store.ensure([schema]);
    let failure: unknown = null;
    for (let b = 0; b < 400 && !failure; b++) {
      try {
        await write(
          store,
          schema.name,
          Array.from({ length: 500 }, (_, i) => row(`m${b}-${i}-${'x'.repeat(40)}`, i)),
        );
      } catch (e) {
        failure = e;
      }
    }
    // Retried by the writer, then left to Pub/Sub: the rows stay valid and are never rejected.
    expect(failure).toMatchObject({ code: 'warehouse_unavailable' });
    expect(String((failure as { cause?: unknown }).cause)).toMatch(/could not allocate|Out of Memory/i);
    await store.close();
  });

  it('classifies the database failing as unavailable and a bad statement as itself', () => {
    // Messages as DuckDB 1.x words them; the commit-time one has no "Out of Memory" prefix.
    for (const message of [
      'TransactionContext Error: Failed to commit: could not allocate block of size 256.0 KiB (1.9 MiB/1.9 MiB used)',
      'Out of Memory Error: failed to allocate data of size 128.0 KiB (1.7 MiB/1.9 MiB used)',
      'IO Error: Could not write file "x.duckdb.wal": No space left on device',
      'Connection Error: Connection was closed',
      'FATAL Error: Failed: database has been invalidated because of a previous fatal error',
    ]) {
      expect(duckdbFailure(new Error(message), 'writing')).toMatchObject({ code: 'warehouse_unavailable' });
    }
    const bug = new Error('Binder Error: Referenced column "nope" not found');
    expect(duckdbFailure(bug, 'writing')).toBe(bug);
  });
});
