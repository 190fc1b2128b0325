/**
 * Uncached page latency on a loaded flights table: ducto's API handler (cache off) for the first
 * page and for a page deep in the result, against the bare DuckDB queries that fetch the same rows.
 * `node --import tsx bench/page-latency.ts <db> <reps> <deep-fraction>`; prints `{"result": {...}}`.
 */
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBTimestampValue, TIMESTAMP, VARCHAR } from '@duckdb/node-api';
import { openDuckDB } from '../src/adapters/duckdb/open.ts';
import { createDuckDBStore } from '../src/adapters/duckdb/store.ts';
import { readConfig } from '../src/config.ts';
import { createCursorCodec, queryDigest } from '../src/core/cursor.ts';
import { parseListQuery, parseParams } from '../src/core/query.ts';
import { loadSchemas } from '../src/core/schema-files.ts';
import { compileList } from '../src/core/sql/compile.ts';
import { duckdbDialect } from '../src/core/sql/dialect.ts';
import type { HttpRequest } from '../src/http/types.ts';
import { buildRuntime } from '../src/runtime.ts';
import { ROOT } from '../support/root.ts';
import { median } from './stats.ts';

const [db = '', repsArg = '25', fractionArg = '0.8333'] = process.argv.slice(2);
const reps = Number(repsArg);
const fraction = Number(fractionArg);

const schemas = loadSchemas(join(ROOT, 'schemas'));
const schema = schemas.get('flights')!;
const config = readConfig({ DUCTO_CACHE_TTL_MS: '0', LOG_LEVEL: 'warn' });
const { instance } = await openDuckDB(db);
const warehouse = createDuckDBStore(instance);
// The same instance serves the bare queries below; the runtime gets it as an open warehouse.
const { app } = await buildRuntime(config, { warehouse, schemas: new Map([[schema.name, schema]]) });
const conn: DuckDBConnection = await instance.connect();

const total = await warehouse.count(schema);
const offset = Math.floor(total * fraction);
const COLS = 'event_id, date, delay, distance, origin, destination';
const ORDER = 'ORDER BY date, event_id';

// The position just before row `offset`: the page after it starts `offset` rows into the result.
const before = await conn.runAndReadAll(
  `SELECT date, event_id FROM flights ${ORDER} LIMIT 1 OFFSET ${offset - 1}`,
);
const [time, eventId] = before.getRows()[0]! as [DuckDBTimestampValue, string];
const position = { time: Number(time.micros), eventId };

// The cursor the API itself would hand out: same codec, same query identity as parseListQuery gives.
const params = parseParams('limit=100', config.api.maxQueryLength);
const digest = queryDigest(parseListQuery(schema, params, false).identity);
const cursor = createCursorCodec(config.api.cursorSecret).encode(position, digest);

const request = (query: string): HttpRequest => ({
  method: 'GET',
  path: '/v1/flights',
  query,
  headers: {},
  body: null,
});
const page = async (query: string) => {
  const r = await app.apiHandler(request(query));
  if (r.status !== 200 || !Buffer.isBuffer(r.body)) throw new Error(`GET /v1/flights?${query}: ${r.status}`);
  return JSON.parse(r.body.toString('utf8')) as { data: Array<{ event_id: string }> };
};
const bare = async (sql: string, values: Record<string, unknown> = {}) => {
  const reader = await conn.runAndReadAll(
    sql,
    values as Record<string, DuckDBTimestampValue | string>,
    Object.fromEntries(Object.keys(values).map((k) => [k, k === 't' ? TIMESTAMP : VARCHAR])),
  );
  return reader.getRows();
};
const after = { t: new DuckDBTimestampValue(BigInt(position.time)), e: position.eventId };
const keysetSql = `SELECT ${COLS} FROM flights WHERE (date, event_id) > ($t, $e) ${ORDER} LIMIT 101`;
// The statement the handler runs for the deep page, taken from ducto's compiler.
const compiled = compileList(duckdbDialect, schema, {
  filters: [],
  order: 'asc',
  limit: 101,
  after: position,
  fields: null,
});
const compiledValues = Object.fromEntries(
  compiled.params.map((p) => [p.name, p.type === 'TIMESTAMP' ? after.t : (p.value as string)]),
);

const variants: Record<string, () => Promise<unknown>> = {
  'api first page': () => page('limit=100'),
  'api deep page': () => page(`limit=100&cursor=${cursor}`),
  'bare first page': () => bare(`SELECT ${COLS} FROM flights ${ORDER} LIMIT 101`),
  'bare keyset (row value)': () => bare(keysetSql, after),
  "bare keyset (ducto's SQL)": () =>
    conn.runAndReadAll(compiled.sql, compiledValues, { p0: TIMESTAMP, p1: VARCHAR }).then((r) => r.getRows()),
  [`bare OFFSET ${offset}`]: () => bare(`SELECT ${COLS} FROM flights ${ORDER} LIMIT 101 OFFSET ${offset}`),
};

// The handler's deep page must be the rows the bare keyset query returns.
const [deep, keyset] = [await page(`limit=100&cursor=${cursor}`), await bare(keysetSql, after)];
if (deep.data.length !== 100 || deep.data[0]!.event_id !== keyset[0]![0]) {
  throw new Error(`the deep page starts at ${deep.data[0]?.event_id}, the keyset query at ${keyset[0]?.[0]}`);
}

const times: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
const WARMUP = 2;
// Interleaved, so that a noisy moment of the machine hits every variant alike.
for (let i = 0; i < WARMUP + reps; i++) {
  for (const [name, run] of Object.entries(variants)) {
    const t = performance.now();
    await run();
    if (i >= WARMUP) times[name]!.push(performance.now() - t);
  }
}
conn.closeSync();
await app.close();
await warehouse.close();

console.log(
  JSON.stringify({
    result: {
      rows: total,
      deepOffset: offset,
      reps,
      medianMs: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)])),
      samplesMs: times,
    },
  }),
);
