/**
 * `npm run smoke:bigquery`: the BigQuery adapter against real BigQuery, end to end. Creates a scratch
 * dataset (run prefix, short id, timestamp), creates the tables from the schema, writes through the
 * adapter (a batch, the same batch again, a rejected row), reads through the API handler, and deletes
 * the dataset whatever happened. Needs DUCTO_BQ_PROJECT (or GOOGLE_CLOUD_PROJECT) and Application
 * Default Credentials allowed to create datasets and run jobs.
 */
import { join } from 'node:path';
import { BigQuery } from '@google-cloud/bigquery';
import { managedwriter } from '@google-cloud/bigquery-storage';
import { createBigQueryStore } from '../src/adapters/bigquery/store.ts';
import { PACKAGE_ROOT, readConfig } from '../src/config.ts';
import { loadSchemas } from '../src/core/schema-files.ts';
import type { EventRow, Warehouse } from '../src/core/warehouse.ts';
import { createLogger } from '../src/logger.ts';
import { buildRuntime } from '../src/runtime.ts';
import { createScratchDataset, type ScratchDataset } from '../support/bigquery-scratch.ts';

function fail(message: string): never {
  process.stderr.write(`smoke:bigquery: ${message}\n`);
  process.exit(1);
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`check failed: ${what}`);
  process.stdout.write(`  ok  ${what}\n`);
}

let config: ReturnType<typeof readConfig>;
try {
  config = readConfig({ ...process.env, DUCTO_WAREHOUSE: 'bigquery', LOG_LEVEL: 'warn' });
} catch (e) {
  fail(`${(e as Error).message}. Set DUCTO_BQ_PROJECT to the project to test in.`);
}
if (config.warehouse.kind !== 'bigquery') throw new Error('DUCTO_WAREHOUSE=bigquery is set above');
const bq = config.warehouse;
const bigquery = new BigQuery({ projectId: bq.project, ...(bq.location ? { location: bq.location } : {}) });
try {
  await bigquery.authClient.getAccessToken();
} catch (e) {
  fail(
    `no Google credentials (${(e as Error).message.split('\n')[0]}). ` +
      'Run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS.',
  );
}

const schemas = loadSchemas(join(PACKAGE_ROOT, 'schemas'));
const schema = schemas.get('flights')!;
const DAY = 86_400_000_000;
// Event times within the default window, so reads without from/to find them too.
const t0 = Math.floor((Date.now() * 1000) / DAY) * DAY - DAY;
const rows: EventRow[] = Array.from({ length: 50 }, (_, i) => ({
  eventId: `smoke-${i}`,
  fields: {
    date: t0 + i * 60_000_000,
    delay: i - 10,
    distance: 100 + i,
    origin: i % 2 ? 'LAX' : 'SFO',
    destination: 'JFK',
  },
  publishTime: t0,
  ingestedAt: Date.now() * 1000,
}));

let scratch: ScratchDataset | undefined;
let store: Warehouse | undefined;
let failed = false;
try {
  scratch = await createScratchDataset(bigquery, 'ducto_smoke', bq.location);
  process.stdout.write(`dataset ${bq.project}.${scratch.name}\n`);
  store = createBigQueryStore({
    bigquery,
    writer: new managedwriter.WriterClient({ projectId: bq.project }),
    project: bq.project,
    dataset: scratch.name,
    location: bq.location,
    maximumBytesBilled: bq.maxBytesBilled,
    queryTimeoutMs: 60_000,
    defaultRangeDays: bq.defaultRangeDays,
    maxRangeDays: bq.maxRangeDays,
    closeClients: true,
  });
  await store.ensure([schema]);
  const [meta] = await bigquery.dataset(scratch.name).table(schema.name).getMetadata();
  check(
    meta.timePartitioning?.field === schema.time.field &&
      meta.requirePartitionFilter === true &&
      JSON.stringify(meta.clustering?.fields) === JSON.stringify(schema.clustering),
    'the events table is partitioned on the event time, clustered, and requires a partition filter',
  );
  const unfiltered = await bigquery
    .query({ query: `SELECT count(*) FROM \`${bq.project}.${scratch.name}.${schema.name}\`` })
    .then(
      () => 'answered',
      (e: Error) => e.message,
    );
  check(/partition elimination/.test(unfiltered), 'a query without a partition filter is refused');

  const first = await store.write({
    dataset: schema.name,
    rows,
    rejected: [
      {
        messageId: 'smoke-bad',
        eventId: null,
        code: 'not_json',
        detail: 'the message data is not JSON',
        payload: new Uint8Array([0xff, 0x00, 0x7b]),
        attributes: { source: 'smoke' },
        publishTime: null,
        receivedAt: Date.now() * 1000,
      },
    ],
  });
  check(first.refused.length === 0, 'a batch written through the Storage Write API');
  // What Pub/Sub does after a lost acknowledgement: the same events again.
  const again = await store.write({ dataset: schema.name, rows: rows.slice(0, 20), rejected: [] });
  check(again.refused.length === 0, 'the first 20 events written a second time');

  const { app } = await buildRuntime(config, {
    warehouse: store,
    schemas: new Map([[schema.name, schema]]),
    logger: createLogger('warn'),
  });
  const get = async (path: string, query = '') => {
    const r = await app.apiHandler({ method: 'GET', path, query, headers: {}, body: null });
    return { status: r.status, body: JSON.parse(String(r.body)) };
  };
  const from = new Date(t0 / 1000).toISOString();
  const to = new Date((t0 + DAY) / 1000).toISOString();
  const page = await get('/v1/flights', `from=${from}&to=${to}&limit=1000`);
  check(page.status === 200, 'GET /v1/flights answers 200');
  const ids = (page.body.data as Array<{ event_id: string }>).map((e) => e.event_id);
  check(ids.length === rows.length && new Set(ids).size === ids.length, 'every event listed exactly once');
  const unbounded = await get('/v1/flights', 'limit=1000');
  check(unbounded.body.data?.length === rows.length, 'the default window finds them without from/to');
  const one = await get('/v1/flights/smoke-7');
  check(one.status === 200 && one.body.data.delay === -3, 'GET /v1/flights/{event_id}');
  const stats = await get('/v1/flights/stats', `from=${from}&to=${to}&group_by=origin`);
  const total = (stats.body.data as Array<{ count: number }>).reduce((n, g) => n + g.count, 0);
  check(stats.status === 200 && total === rows.length, 'stats count each event once');
  const rejected = await store.rejected(schema, 10);
  check(rejected[0]?.payload?.[0] === 0xff, 'the rejected row kept its raw bytes');
  await app.close();
} catch (e) {
  failed = true;
  process.stderr.write(`smoke:bigquery failed: ${(e as Error).stack ?? e}\n`);
} finally {
  await store?.close().catch(() => undefined);
  if (scratch) {
    try {
      await scratch.drop();
      process.stdout.write(`deleted ${scratch.name}\n`);
    } catch (e) {
      failed = true;
      process.stderr.write(`could not delete ${scratch.name}: ${(e as Error).message}\n`);
    }
  }
}
process.exit(failed ? 1 : 0);
