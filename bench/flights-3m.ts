/**
 * Loads the first <rows> rows of flights-3m.parquet into ducto's flights table through the writer
 * (the store's `write()`, batches of <batch> EventRows), then closes the database so it is
 * checkpointed: `node --import tsx bench/flights-3m.ts <db> <rows> <batch>`. Prints one JSON line
 * `{"result": {...}}` with the load rate and this process's peak RSS. The rows come as JSON lines from
 * bench/flights-source.ts in a child process, as messages come to ingest from outside: the memory
 * of reading the parquet file is the source's, not the writer's.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { openDuckDB } from '../src/adapters/duckdb/open.ts';
import { createDuckDBStore } from '../src/adapters/duckdb/store.ts';
import { duckdbSettings } from '../src/config.ts';
import { loadSchemas } from '../src/core/schema-files.ts';
import type { EventRow } from '../src/core/warehouse.ts';
import { peakRssMb } from '../support/proc.ts';
import { ROOT } from '../support/root.ts';

const [db = '', rowsArg = '', batchArg = '10000'] = process.argv.slice(2);
const rows = Number(rowsArg);
const batchSize = Number(batchArg);
if (!db || !Number.isSafeInteger(rows) || rows < 1 || !Number.isSafeInteger(batchSize) || batchSize < 1) {
  console.error('usage: bench/flights-3m.ts <db> <rows> <batch>');
  process.exit(2);
}

const schema = loadSchemas(join(ROOT, 'schemas')).get('flights')!;
// DuckDB's threads and memory limit as ducto runs it (DUCTO_DUCKDB_* to try others).
const { instance } = await openDuckDB(db, duckdbSettings(process.env));
const store = createDuckDBStore(instance);
await store.ensure([schema]);
// Where the memory goes: the process before any row, and DuckDB's own accounting after the last.
const rssBeforeRowsMb = process.memoryUsage().rss / 2 ** 20;

const source = spawn(
  process.execPath,
  [...process.execArgv, join(import.meta.dirname, 'flights-source.ts'), String(rows)],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const lines = createInterface({ input: source.stdout! });
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
for await (const line of lines) {
  const [date, delay, distance, origin, destination] = JSON.parse(line) as [
    number,
    number,
    number,
    string,
    string,
  ];
  batch.push({
    eventId: `f3m-${loaded + batch.length}`,
    fields: { date, delay, distance, origin, destination },
    publishTime: null,
    ingestedAt,
  });
  if (batch.length === batchSize) await flush();
}
if (batch.length > 0) await flush();
const loadMs = performance.now() - started;
const [code] = (source.exitCode === null ? await once(source, 'exit') : [source.exitCode]) as [number | null];
if (code !== 0) throw new Error(`bench/flights-source.ts exited with ${code}`);
const reader = await instance.connect();
const accounting = await reader.runAndReadAll(
  'SELECT tag, memory_usage_bytes FROM duckdb_memory() WHERE memory_usage_bytes > 0 ORDER BY memory_usage_bytes DESC',
);
const duckdbMb = Object.fromEntries(
  accounting.getRows().map(([tag, bytes]) => [String(tag), Number(bytes) / 2 ** 20]),
);
const heap = process.memoryUsage();
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
      rssBeforeRowsMb,
      /** DuckDB's buffer manager at the end of the load, by tag (table pages, index, …). */
      duckdbMb,
      v8HeapTotalMb: heap.heapTotal / 2 ** 20,
    },
  }),
);
