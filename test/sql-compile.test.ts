import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DatasetSchema } from '../src/core/dataset-schema.ts';
import type { DuctoError } from '../src/core/errors.ts';
import {
  type CompiledQuery,
  compileCount,
  compileFreshness,
  compileGet,
  compileList,
  compileStats,
} from '../src/core/sql/compile.ts';
import { bigqueryDialect, type Dialect, duckdbDialect } from '../src/core/sql/dialect.ts';
import { compileRejected } from '../src/core/sql/rejected.ts';
import type { ListQuery, StatsQuery } from '../src/core/warehouse.ts';
import { ROOT } from '../support/root.ts';
import { flights, seattleWeather } from './helpers/schemas.ts';

// Regenerate with UPDATE_GOLDEN=1; by default a difference fails the test.
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const GOLDEN = join(ROOT, 'test/golden/sql');

const dialects: Record<string, Dialect> = {
  duckdb: duckdbDialect,
  bigquery: bigqueryDialect({ tableName: (t) => `ducto-test.ducto.${t}` }),
};

const T0 = Date.UTC(2001, 0, 1) * 1000;
const list = (q: Partial<ListQuery>): ListQuery => ({
  filters: [],
  order: 'asc',
  limit: 100,
  after: null,
  fields: null,
  ...q,
});
const stats = (q: Partial<StatsQuery>): StatsQuery => ({ filters: [], groupBy: [], bucket: null, ...q });

const cases: Record<string, (d: Dialect, s: DatasetSchema) => CompiledQuery> = {
  'list-plain': (d, s) => compileList(d, s, list({})),
  'list-filters': (d, s) =>
    compileList(
      d,
      s,
      list({
        filters: [
          { field: 'origin', op: 'in', values: ['LAX', 'SFO'] },
          { field: 'destination', op: 'in', values: ['JFK'] },
          { field: 'delay', op: 'gt', values: [-10] },
          { field: 'delay', op: 'lte', values: [60] },
          { field: 'distance', op: 'gte', values: [100] },
          { field: 'distance', op: 'lt', values: [2000] },
          { field: 'date', op: 'gte', values: [T0] },
          { field: 'date', op: 'lt', values: [T0 + 86_400_000_000] },
        ],
      }),
    ),
  'list-desc-keyset': (d, s) =>
    compileList(
      d,
      s,
      list({
        order: 'desc',
        limit: 25,
        after: { time: T0 + 123_456, eventId: 'ev-42' },
        filters: [{ field: 'origin', op: 'in', values: ['LAX'] }],
      }),
    ),
  'list-asc-keyset': (d, s) => compileList(d, s, list({ after: { time: T0, eventId: 'ev-1' } })),
  'list-projection': (d, s) => compileList(d, s, list({ fields: ['origin', 'delay'] })),
  'list-stream': (d, s) => compileList(d, s, list({ limit: null, order: 'desc' })),
  'stats-plain': (d, s) => compileStats(d, s, stats({})),
  'stats-group-by': (d, s) =>
    compileStats(
      d,
      s,
      stats({ groupBy: ['origin', 'destination'], filters: [{ field: 'delay', op: 'gte', values: [30] }] }),
    ),
  'stats-bucket-hour': (d, s) => compileStats(d, s, stats({ bucket: 'hour' })),
  'stats-bucket-day': (d, s) => compileStats(d, s, stats({ bucket: 'day', groupBy: ['origin'] })),
  get: (d, s) => compileGet(d, s, 'ev-42'),
  freshness: (d, s) => compileFreshness(d, s),
  count: (d, s) => compileCount(d, s),
  rejected: (d, s) => compileRejected(d, s, 50),
};

function render(q: CompiledQuery): string {
  const params = q.params.map((p) => `-- ${JSON.stringify(p)}`).join('\n');
  return `${q.sql}\n\n-- params (${q.params.length})${params ? `\n${params}` : ''}\n`;
}

function placeholders(sql: string): Set<string> {
  return new Set([...sql.matchAll(/[$@](p\d+)\b/g)].map((m) => m[1]!));
}

describe.each(Object.keys(dialects))('SQL compiler, %s dialect', (name) => {
  const d = dialects[name]!;
  it.each(Object.keys(cases))('%s matches its golden file', (key) => {
    const file = join(GOLDEN, name, `${key}.sql`);
    const actual = render(cases[key]!(d, flights()));
    if (UPDATE) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, actual);
    }
    let expected: string;
    try {
      expected = readFileSync(file, 'utf8');
    } catch {
      throw new Error(
        `missing golden file ${file}; run UPDATE_GOLDEN=1 npx vitest run test/sql-compile.test.ts`,
      );
    }
    expect(actual).toBe(expected);
  });

  it.each(Object.keys(cases))('%s binds every placeholder it writes, and only those', (key) => {
    const q = cases[key]!(d, flights());
    expect(placeholders(q.sql)).toEqual(new Set(q.params.map((p) => p.name)));
  });
});

describe('values never reach SQL text', () => {
  const NASTY = "LAX'; DROP TABLE x;--";
  const NUMBER = 4242.4242;
  const schema = seattleWeather();
  const t = Date.UTC(2013, 4, 5) * 1000 + 424242;
  const filters = [
    { field: 'weather', op: 'in' as const, values: [NASTY, 'sun'] },
    { field: 'precipitation', op: 'gt' as const, values: [NUMBER] },
    { field: 'temp_max', op: 'lte' as const, values: [-NUMBER] },
    { field: 'date', op: 'gte' as const, values: [t] },
  ];
  const queries = (d: Dialect) => [
    compileList(d, schema, list({ filters, after: { time: t, eventId: NASTY } })),
    compileStats(d, schema, stats({ filters, groupBy: ['weather'], bucket: 'day' })),
    compileGet(d, schema, NASTY),
  ];

  it.each(Object.keys(dialects))('%s', (name) => {
    for (const q of queries(dialects[name]!)) {
      for (const marker of ['DROP', "LAX'", '4242', String(t)]) expect(q.sql).not.toContain(marker);
      const values = q.params.map((p) => p.value);
      expect(values.some((v) => v === NASTY || v === NUMBER || v === t)).toBe(true);
    }
  });
});

describe('compiler refusals', () => {
  const s = flights();
  const refused = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return (e as DuctoError).code;
    }
    throw new Error('expected a refusal');
  };

  it('refuses fields, operators and values the schema does not allow', () => {
    const q = (filter: ListQuery['filters'][number]) => () =>
      compileList(duckdbDialect, s, list({ filters: [filter] }));
    expect(refused(q({ field: 'nope', op: 'in', values: ['x'] }))).toBe('bad_parameter');
    expect(refused(q({ field: 'origin"--', op: 'in', values: ['x'] }))).toBe('bad_parameter');
    expect(refused(q({ field: 'origin', op: 'gt', values: ['LAX'] }))).toBe('bad_parameter');
    expect(refused(q({ field: 'origin', op: 'in', values: [] }))).toBe('bad_parameter');
    expect(refused(q({ field: 'origin', op: 'in', values: [null] }))).toBe('bad_parameter');
    expect(refused(q({ field: 'delay', op: 'gt', values: [1, 2] }))).toBe('bad_parameter');
    expect(refused(q({ field: 'delay', op: 'gt', values: ['1'] }))).toBe('bad_parameter');
    expect(refused(q({ field: 'delay', op: 'gt', values: [1.5] }))).toBe('bad_parameter');
    expect(refused(q({ field: 'date', op: 'lt', values: [Number.NaN] }))).toBe('bad_parameter');
    expect(refused(q({ field: 'delay', op: 'like' as 'gt', values: [1] }))).toBe('bad_parameter');
  });

  it('refuses a limit that is not a positive integer, and unknown projections and groups', () => {
    for (const limit of [0, -1, 1.5, Number.NaN]) {
      expect(refused(() => compileList(duckdbDialect, s, list({ limit })))).toBe('bad_parameter');
    }
    expect(refused(() => compileList(duckdbDialect, s, list({ fields: ['nope'] })))).toBe('bad_parameter');
    expect(refused(() => compileStats(duckdbDialect, s, stats({ groupBy: ['delay'] })))).toBe(
      'bad_parameter',
    );
    expect(refused(() => compileStats(duckdbDialect, s, stats({ groupBy: ['origin', 'origin'] })))).toBe(
      'bad_parameter',
    );
  });

  it('refuses identifiers and table paths that would need escaping', () => {
    expect(refused(() => duckdbDialect.column('a"b'))).toBe('internal');
    expect(refused(() => duckdbDialect.column('Origin'))).toBe('internal');
    const bq = bigqueryDialect({ tableName: (t) => `p.d.${t}\`; DROP TABLE x` });
    expect(refused(() => compileCount(bq, s))).toBe('config_invalid');
    const domain = bigqueryDialect({ tableName: (t) => `example.com:my-project.ducto_prod.${t}` });
    expect(compileCount(domain, s).sql).toContain('`example.com:my-project.ducto_prod.flights`');
  });
});
