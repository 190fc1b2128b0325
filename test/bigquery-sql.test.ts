import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readConfig } from '../src/config.ts';
import type { DatasetSchema } from '../src/core/dataset-schema.ts';
import {
  bigqueryDedupView,
  bigqueryTableResource,
  bigqueryTables,
} from '../src/core/derive/bigquery-schema.ts';
import type { DuctoError } from '../src/core/errors.ts';
import {
  type CompiledQuery,
  compileCount,
  compileFreshness,
  compileGet,
  compileList,
  compileStats,
} from '../src/core/sql/compile.ts';
import { dedupKey } from '../src/core/sql/dedup.ts';
import { bigqueryDialect, duckdbDialect } from '../src/core/sql/dialect.ts';
import { ALL_TIME, DAY, partitionPolicy } from '../src/core/sql/partition-range.ts';
import type { Filter, ListQuery } from '../src/core/warehouse.ts';
import { ROOT } from '../support/root.ts';
import { allSchemas, flights } from './helpers/schemas.ts';

const NOW = Date.UTC(2024, 5, 1, 22, 30) * 1000;
const END = Date.UTC(2024, 5, 3) * 1000;

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as DuctoError).code;
  }
  return 'answered';
}

describe('partition policy', () => {
  const policy = partitionPolicy({ defaultDays: 3, maxDays: 10, recentDays: 2, now: () => NOW });
  const none = { from: null, to: null };

  it('fills a missing range with whole days: the last n days up to today, and tomorrow', () => {
    expect(policy.range('query', none)).toEqual({ from: END - 4 * DAY, to: END });
    expect(policy.range('lookup', none)).toEqual({ from: END - 11 * DAY, to: END });
    expect(policy.range('recent', none)).toEqual({ from: END - 3 * DAY, to: END });
  });

  it('keeps the bounds a query sets, and fills a missing from back from its to', () => {
    expect(policy.range('query', { from: NOW - DAY, to: NOW })).toEqual({ from: NOW - DAY, to: NOW });
    expect(policy.range('query', { from: null, to: NOW - 50 * DAY })).toEqual({
      from: NOW - 53 * DAY,
      to: NOW - 50 * DAY,
    });
    expect(policy.range('query', { from: NOW - 10 * DAY, to: null })).toEqual({
      from: NOW - 10 * DAY,
      to: END,
    });
  });

  it('refuses a range longer than the maximum, with from as the parameter to fix', () => {
    expect(refusal(() => policy.range('query', { from: NOW - 11 * DAY, to: null }))).toBe('bad_parameter');
    expect(refusal(() => policy.range('query', { from: 0, to: 10 * DAY + 1 }))).toBe('bad_parameter');
    expect(refusal(() => policy.range('query', { from: 0, to: 10 * DAY }))).toBe('answered');
  });

  it('with no maximum, reads every partition (still a filter on the column)', () => {
    const open = partitionPolicy({ defaultDays: null, maxDays: null, recentDays: null, now: () => NOW });
    expect(open.range('query', none)).toEqual(ALL_TIME);
    expect(open.range('lookup', none)).toEqual(ALL_TIME);
    expect(open.range('recent', none)).toEqual(ALL_TIME);
    expect(open.range('query', { from: 5, to: null })).toEqual({ from: 5, to: ALL_TIME.to });
    expect(open.range('query', { from: null, to: 5 })).toEqual({ from: ALL_TIME.from, to: 5 });
  });
});

describe('BigQuery dialect: every query shape', () => {
  const schema = flights();
  const d = bigqueryDialect({
    tableName: (t) => `proj-1.ds.${t}`,
    partitions: partitionPolicy({ defaultDays: 7, maxDays: 31, recentDays: 2, now: () => NOW }),
  });
  const T = NOW - 3 * DAY + 424_242;
  const NASTY = "LAX' OR 1=1 --";
  const filters: Filter[] = [
    { field: 'origin', op: 'in', values: [NASTY, 'SFO'] },
    { field: 'delay', op: 'gt', values: [4242] },
    { field: 'date', op: 'gte', values: [T] },
  ];
  const list = (q: Partial<ListQuery>): ListQuery => ({
    filters,
    order: 'asc',
    limit: 777,
    after: null,
    fields: null,
    ...q,
  });
  const queries: Record<string, CompiledQuery> = {
    list: compileList(d, schema, list({})),
    'list-desc-after': compileList(
      d,
      schema,
      list({ order: 'desc', after: { time: T + 99, eventId: NASTY } }),
    ),
    stream: compileList(d, schema, list({ limit: null })),
    get: compileGet(d, schema, NASTY),
    stats: compileStats(d, schema, { filters, groupBy: ['origin'], bucket: 'hour' }),
    freshness: compileFreshness(d, schema),
    count: compileCount(d, schema),
  };

  it.each(Object.keys(queries))(
    '%s filters on the partition column with two TIMESTAMP parameters',
    (name) => {
      const q = queries[name]!;
      const m = /`date` >= @(p\d+) AND `date` < @(p\d+)/.exec(q.sql);
      expect(m).not.toBeNull();
      const types = new Map(q.params.map((p) => [p.name, p.type]));
      expect([types.get(m![1]!), types.get(m![2]!)]).toEqual(['TIMESTAMP', 'TIMESTAMP']);
    },
  );

  it.each(Object.keys(queries))(
    '%s reads events deduplicated, except freshness (a maximum ignores copies)',
    (name) => {
      const q = queries[name]!;
      const dedup = /QUALIFY ROW_NUMBER\(\) OVER \(PARTITION BY `event_id`, `date`, `origin`, `destination`/;
      if (name === 'freshness') expect(q.sql).not.toMatch(dedup);
      else expect(q.sql).toMatch(dedup);
    },
  );

  it.each(Object.keys(queries))('%s binds every value, the limit included, and writes none', (name) => {
    const q = queries[name]!;
    const placeholders = new Set([...q.sql.matchAll(/@(\w+)/g)].map((m) => m[1]));
    expect(placeholders).toEqual(new Set(q.params.map((p) => p.name)));
    for (const marker of [NASTY, "LAX'", '4242', '777', String(T), String(T + 99)]) {
      expect(q.sql).not.toContain(marker);
    }
  });

  it('the time range of a query is inside the subquery, before deduplication, so it prunes partitions', () => {
    const sql = queries.list!.sql;
    expect(sql.indexOf('`date` >= @')).toBeLessThan(sql.indexOf('QUALIFY'));
  });

  it('DuckDB queries are unchanged: no partition filter, no deduplication, LIMIT inline', () => {
    const q = compileList(duckdbDialect, schema, list({}));
    expect(q.sql).not.toMatch(/QUALIFY|ROW_NUMBER/);
    expect(q.sql).toMatch(/LIMIT 777$/);
  });
});

describe('BigQuery derived forms', () => {
  it.each([...allSchemas().values()])(
    '$name: the dedup key is the id, the event time and the clustering columns',
    (s: DatasetSchema) => {
      expect(dedupKey(s)).toEqual([...new Set(['event_id', s.time.field, ...s.clustering])]);
    },
  );

  it.each([...allSchemas().values()])(
    '$name: the table resource is the Terraform JSON, field for field',
    (s: DatasetSchema) => {
      const { events, rejected } = bigqueryTables(s);
      for (const t of [events, rejected]) {
        expect(bigqueryTableResource(t)).toEqual({
          description: t.description,
          schema: { fields: t.schema },
          timePartitioning: { type: 'DAY', field: t.time_partitioning.field },
          requirePartitionFilter: true,
          clustering: { fields: t.clustering },
        });
      }
    },
  );

  it('the dedup view for Terraform deduplicates like the API, over the whole table', () => {
    const view = bigqueryDedupView(flights());
    expect(view.table_id).toBe('flights_dedup');
    expect(view.query).toBe(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Terraform's placeholders, left for it to fill
      'SELECT *\nFROM `${project}.${dataset}.flights`\nWHERE TRUE\n' +
        'QUALIFY ROW_NUMBER() OVER (PARTITION BY `event_id`, `date`, `origin`, `destination` ORDER BY `ingested_at`) = 1',
    );
    const committed = JSON.parse(readFileSync(join(ROOT, 'infra/generated/flights/dedup-view.json'), 'utf8'));
    expect(committed).toEqual(view);
  });
});

describe('BigQuery configuration', () => {
  it('is off by default, and complete with defaults when chosen', () => {
    // Exactly one warehouse, with only its own settings.
    expect(readConfig({}).warehouse).toMatchObject({ kind: 'duckdb', path: './data/ducto.duckdb' });
    expect(readConfig({}).warehouse).not.toHaveProperty('project');
    expect(readConfig({ DUCTO_WAREHOUSE: 'bigquery', GOOGLE_CLOUD_PROJECT: 'my-proj' }).warehouse).toEqual({
      kind: 'bigquery',
      project: 'my-proj',
      dataset: 'ducto',
      location: undefined,
      maxBytesBilled: 5 * 1024 ** 3,
      queryTimeoutMs: 10_000,
      defaultRangeDays: 7,
      maxRangeDays: 31,
    });
    expect(
      readConfig({
        DUCTO_WAREHOUSE: 'bigquery',
        GOOGLE_CLOUD_PROJECT: 'other',
        DUCTO_BQ_PROJECT: 'example.com:my-proj',
        DUCTO_BQ_DATASET: 'ducto_prod',
        DUCTO_BQ_LOCATION: 'EU',
        DUCTO_BQ_MAX_BYTES_BILLED: String(2 * 1024 ** 3),
        DUCTO_BQ_QUERY_TIMEOUT_MS: '3000',
        DUCTO_BQ_MAX_RANGE_DAYS: '92',
        DUCTO_BQ_DEFAULT_RANGE_DAYS: '14',
      }).warehouse,
    ).toEqual({
      kind: 'bigquery',
      project: 'example.com:my-proj',
      dataset: 'ducto_prod',
      location: 'EU',
      maxBytesBilled: 2 * 1024 ** 3,
      queryTimeoutMs: 3000,
      defaultRangeDays: 14,
      maxRangeDays: 92,
    });
  });

  it.each([
    [{ DUCTO_WAREHOUSE: 'postgres' }],
    [{ DUCTO_WAREHOUSE: 'bigquery' }],
    [{ DUCTO_WAREHOUSE: 'bigquery', DUCTO_BQ_PROJECT: 'Bad Project' }],
    [{ DUCTO_WAREHOUSE: 'bigquery', DUCTO_BQ_PROJECT: 'p-1', DUCTO_BQ_DATASET: 'a.b' }],
    // Below BigQuery's 10 MB minimum, every query would be refused.
    [{ DUCTO_WAREHOUSE: 'bigquery', DUCTO_BQ_PROJECT: 'p-1', DUCTO_BQ_MAX_BYTES_BILLED: '1000000' }],
    [{ DUCTO_WAREHOUSE: 'bigquery', DUCTO_BQ_PROJECT: 'p-1', DUCTO_BQ_MAX_RANGE_DAYS: '0' }],
    [{ DUCTO_WAREHOUSE: 'bigquery', DUCTO_BQ_PROJECT: 'p-1', DUCTO_BQ_DEFAULT_RANGE_DAYS: '40' }],
  ])('refuses %j at start', (env) => {
    expect(refusal(() => readConfig(env))).toBe('config_invalid');
  });

  it('the factory builds the BigQuery adapter from the configuration, with real clients it closes', async () => {
    const { createWarehouse } = await import('../src/warehouse-factory.ts');
    const store = await createWarehouse(readConfig({ DUCTO_WAREHOUSE: 'bigquery', DUCTO_BQ_PROJECT: 'p-1' }));
    expect(store.kind).toBe('bigquery');
    await store.close();
  });
});
