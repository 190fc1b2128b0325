/**
 * Loads the first <rows> rows of flights-3m.parquet into ducto's flights table through the writer
 * (the store's `write()`, batches of <batch> EventRows), then closes the database so it is
 * checkpointed: `node --import tsx bench/flights-3m.ts <db> <rows> <batch>`. Prints one JSON line
 * `{"result": {...}}` with the load rate and this process's peak RSS.
 */
import { join } from 'node:path';
import type { DuckDBTimestampValue } from '@duckdb/node-api';
import { createDuckDBStore, openDuckDB } from '../src/adapters/duckdb-store.ts';
import { PACKAGE_ROOT } from '../src/config.ts';
import { loadSchemas } from '../src/core/schema-files.ts';
import type { EventRow } from '../src/core/warehouse.ts';
import { peakRssMb } from './child.ts';

const PARQUET = join(PACKAGE_ROOT, 'node_modules/vega-datasets/data/flights-3m.parquet');

const [db = '', rowsArg = '', batchArg = '10000'] = process.argv.slice(2);
const rows = Number(rowsArg);
const batchSize = Number(batchArg);
if (!db || !Number.isSafeInteger(rows) || rows < 1 || !Number.isSafeInteger(batchSize) || batchSize < 1) {
  console.error('usage: bench/flights-3m.ts <db> <rows> <batch>');
  process.exit(2);
}

const schema = loadSchemas(join(PACKAGE_ROOT, 'schemas')).get('flights')!;
const { instance } = await openDuckDB(db);
const store = createDuckDBStore(instance);
await store.ensure([schema]);

// The parquet is read on a connection of its own, a chunk (≤ 2048 rows) at a time.
const reader = await instance.connect();
const result = await reader.stream(
  `SELECT date, delay, distance, origin, destination FROM read_parquet('${PARQUET.replaceAll("'", "''")}') LIMIT ${rows}`,
);
const started = performance.now();
let writeMs = 0;
let loaded = 0;
let batch: EventRow[] = [];
const flush = async () => {
  const t = performance.now();
  const { inserted, refused } = await store.write({ dataset: 'flights', rows: batch, rejected: [] });
  writeMs += performance.now() - t;
  if (refused.length > 0 || (inserted !== null && inserted.size !== batch.length)) {
    throw new Error(
      `the writer stored ${inserted?.size} of ${batch.length} rows (${refused.length} refused)`,
    );
  }
  loaded += batch.length;
  batch = [];
  if (loaded % 500_000 < batchSize) console.error(`  … ${loaded.toLocaleString('en')} rows`);
};
const ingestedAt = Date.now() * 1000;
for (;;) {
  const chunk = await result.fetchChunk();
  if (!chunk || chunk.rowCount === 0) break;
  for (const [date, delay, distance, origin, destination] of chunk.getRows()) {
    batch.push({
      eventId: `f3m-${loaded + batch.length}`,
      fields: {
        date: Number((date as DuckDBTimestampValue).micros),
        delay: Number(delay),
        distance: Number(distance),
        origin: origin as string,
        destination: destination as string,
      },
      publishTime: null,
      ingestedAt,
    });
    if (batch.length === batchSize) await flush();
  }
}
if (batch.length > 0) await flush();
const loadMs = performance.now() - started;
reader.closeSync();
const closeStarted = performance.now();
await store.close();
const closeMs = performance.now() - closeStarted;
console.log(
  JSON.stringify({
    result: {
      rows: loaded,
      batch: batchSize,
      seconds: loadMs / 1000,
      rowsPerS: loaded / (loadMs / 1000),
      writeSeconds: writeMs / 1000,
      checkpointSeconds: closeMs / 1000,
      peakRssMb: peakRssMb(process.pid),
    },
  }),
);
