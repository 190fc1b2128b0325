/**
 * The source of the pages load, in a process of its own: streams the first <rows> rows of
 * flights-3m.parquet to stdout as JSON lines `[date µs, delay, distance, origin, destination]`:
 * `node --import tsx bench/flights-source.ts <rows>`. Reading the parquet file takes DuckDB about
 * 150 MB (it decompresses whole row groups of ~270k rows); kept out of the loader, that memory is not
 * counted as the memory of writing.
 */
import { once } from 'node:events';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBTimestampValue } from '@duckdb/node-api';
import { ROOT } from '../support/root.ts';

const PARQUET = join(ROOT, 'node_modules/vega-datasets/data/flights-3m.parquet');
const rows = Number(process.argv[2]);
if (!Number.isSafeInteger(rows) || rows < 1) {
  console.error('usage: bench/flights-source.ts <rows>');
  process.exit(2);
}

const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
const reader = await instance.connect();
const result = await reader.stream(
  `SELECT date, delay, distance, origin, destination FROM read_parquet('${PARQUET.replaceAll("'", "''")}') LIMIT ${rows}`,
);
for (;;) {
  const chunk = await result.fetchChunk();
  if (!chunk || chunk.rowCount === 0) break;
  let lines = '';
  for (const [date, delay, distance, origin, destination] of chunk.getRows()) {
    lines += `${JSON.stringify([Number((date as DuckDBTimestampValue).micros), Number(delay), Number(distance), origin, destination])}\n`;
  }
  if (!process.stdout.write(lines)) await once(process.stdout, 'drain');
}
reader.closeSync();
instance.closeSync();
