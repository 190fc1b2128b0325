/**
 * Property-based and fuzz tests (fast-check): SQL text never holds a value the client sent.
 * Each guarantee is written once as a property over the
 * implementation under test, run against the real code, and run once more against a deliberately
 * broken variant to show that the property can fail.
 *
 * Run counts are fixed and small enough for a loaded two-core machine; seeds are not: a failure prints
 * the seed and the shrunk counterexample, which `fc.assert(..., { seed, path })` replays.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DatasetSchema } from '../src/core/dataset-schema.ts';
import { parseListQuery, parseParams, parseStatsQuery } from '../src/core/query.ts';
import type { Value } from '../src/core/record.ts';
import { type CompiledQuery, compileGet, compileList, compileStats } from '../src/core/sql/compile.ts';
import { bigqueryDialect, type Dialect, duckdbDialect } from '../src/core/sql/dialect.ts';
import { partitionPolicy } from '../src/core/sql/partition-range.ts';
import type { Filter, Keyset, ListQuery, StatsQuery } from '../src/core/warehouse.ts';
import {
  expectClassified,
  instant,
  isClientError,
  listQueryString,
  MAX_QUERY_LENGTH,
  NASTY,
  schema,
  statsQueryString,
} from './support/arbitraries.ts';

// ------------------------------------------------------------------------------------------------
// 2. Query strings: what parses compiles to SQL holding no value; what does not is a 4xx
// ------------------------------------------------------------------------------------------------

const dialects: Array<[string, Dialect]> = [
  ['duckdb', duckdbDialect],
  ['bigquery', bigqueryDialect({ tableName: (t) => `ducto-test.ducto.${t}` })],
  [
    'bigquery with a partition window',
    bigqueryDialect({
      tableName: (t) => `ducto-test.ducto.${t}`,
      partitions: partitionPolicy({
        defaultDays: 7,
        maxDays: 31,
        recentDays: 2,
        now: () => Date.UTC(2001, 5, 1) * 1000,
      }),
    }),
  ],
];

/** The placeholders a SQL text uses (as test/sql-compile.test.ts reads them). */
function placeholders(sql: string): Set<string> {
  return new Set([...sql.matchAll(/[$@](p\d+)\b/g)].map((m) => m[1]!));
}

/**
 * What is left of a SQL text once placeholders, quoted identifiers and the compiler's own constants
 * are removed. Values would have to be here; only keywords, function names and operators may be.
 */
function residue(sql: string, inlinedLimit: number | null): string {
  let r = sql
    .replace(/[$@]p\d+\b/g, ' ')
    .replace(/"[a-z][a-z0-9_]*"/g, ' ')
    .replace(/`[^`]*`/g, ' ')
    .replace(/'(?:hour|day|UTC)'/g, ' ')
    .replace(/\) = 1$/gm, ') ');
  // DuckDB writes LIMIT as a validated integer (BigQuery binds it): the one number allowed in the text.
  if (inlinedLimit !== null) r = r.replace(new RegExp(`\\bLIMIT ${inlinedLimit}$`), ' ');
  return r;
}

/** Every value moved, keeping its type: a number by one toward zero, a string lengthened, a boolean flipped. */
function moved<T extends { filters: Filter[] }>(q: T): T {
  const move = (v: Value): Value => {
    if (typeof v === 'string') return `${v}\u0001moved`;
    if (typeof v === 'number') return v > 0 ? v - 1 : v + 1;
    return typeof v === 'boolean' ? !v : v;
  };
  return { ...q, filters: q.filters.map((f) => ({ ...f, values: f.values.map(move) })) };
}

const SQL_WORDS = /^[A-Za-z_(),*=<>.\s]*$/;

type Compiler = (d: Dialect, s: DatasetSchema, q: ListQuery) => CompiledQuery;

/**
 * The SQL holds no value: (1) its text is the same when every value changes, (2) nothing but
 * keywords and operators is left once placeholders and identifiers are removed, (3) no raw value the
 * client sent is in that residue, (4) it binds exactly the placeholders it writes, and every value.
 */
function expectValuesOnlyBound(
  d: Dialect,
  q: CompiledQuery,
  other: CompiledQuery,
  values: Value[],
  raw: string[],
  limit: number | null,
): void {
  expect(other.sql).toBe(q.sql);
  const rest = residue(q.sql, d.bindLimit ? null : limit);
  expect(rest).toMatch(SQL_WORDS);
  // A value made of keyword letters and operators only (`ASC`, `,`) is covered by (1).
  for (const s of raw) if (!SQL_WORDS.test(s)) expect(rest).not.toContain(s);
  expect(placeholders(q.sql)).toEqual(new Set(q.params.map((p) => p.name)));
  const bound = q.params.map((p) => p.value);
  for (const v of values) expect(bound).toContainEqual(v);
}

/** The raw value strings of the filter parameters, as the client wrote them after decoding. */
function rawFilterValues(params: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [k, v] of params) {
    if (['limit', 'order', 'fields', 'cursor', 'group_by', 'bucket'].includes(k)) continue;
    out.push(...(schema.dimensions.includes(k) ? v.split(',') : [v]));
  }
  return out;
}

const keyset: fc.Arbitrary<Keyset> = fc.record({
  time: instant.map((ms) => ms * 1000),
  eventId: fc.oneof(fc.constantFrom(...NASTY), fc.string({ unit: 'binary', minLength: 1, maxLength: 40 })),
});

const listCompilesSafely = (compile: Compiler, counts: { parsed: number }) =>
  fc.property(listQueryString, fc.boolean(), fc.option(keyset, { nil: null }), (raw, stream, after) => {
    let parsed: ReturnType<typeof parseListQuery>;
    let params: Map<string, string>;
    try {
      params = parseParams(raw, MAX_QUERY_LENGTH);
      parsed = parseListQuery(schema, params, stream);
    } catch (error) {
      expectClassified(error, isClientError);
      return;
    }
    counts.parsed++;
    const query: ListQuery = { ...parsed.query, after };
    const movedQuery = {
      ...moved(query),
      after: after && { time: after.time + 1, eventId: `${after.eventId}x` },
    };
    const values = query.filters.flatMap((f) => f.values);
    if (after) values.push(after.time, after.eventId);
    for (const [, d] of dialects) {
      let q: CompiledQuery;
      try {
        q = compile(d, schema, query);
      } catch (error) {
        // A partition window may refuse a range that is too long: a client error too.
        expectClassified(error, isClientError);
        continue;
      }
      expectValuesOnlyBound(
        d,
        q,
        compile(d, schema, movedQuery),
        values,
        rawFilterValues(params),
        query.limit,
      );
    }
  });

describe('property: SQL text never holds a value the client sent', () => {
  it('list queries: what parses binds every value; what does not is a classified 4xx', () => {
    const counts = { parsed: 0 };
    fc.assert(listCompilesSafely(compileList, counts), { numRuns: 400 });
    expect(counts.parsed).toBeGreaterThan(50);
  });

  it('stats queries: the same, with grouping and buckets', () => {
    let parsed = 0;
    fc.assert(
      fc.property(statsQueryString, (raw) => {
        let params: Map<string, string>;
        let query: StatsQuery;
        try {
          params = parseParams(raw, MAX_QUERY_LENGTH);
          query = parseStatsQuery(schema, params);
        } catch (error) {
          expectClassified(error, isClientError);
          return;
        }
        parsed++;
        const values = query.filters.flatMap((f) => f.values);
        for (const [, d] of dialects) {
          let q: CompiledQuery;
          try {
            q = compileStats(d, schema, query);
          } catch (error) {
            expectClassified(error, isClientError);
            continue;
          }
          expectValuesOnlyBound(
            d,
            q,
            compileStats(d, schema, moved(query)),
            values,
            rawFilterValues(params),
            null,
          );
        }
      }),
      { numRuns: 300 },
    );
    expect(parsed).toBeGreaterThan(30);
  });

  it('get by id: the id is bound, whatever it is', () => {
    fc.assert(
      fc.property(
        keyset.map((k) => k.eventId),
        (id) => {
          for (const [, d] of dialects) {
            const q = compileGet(d, schema, id);
            expectValuesOnlyBound(d, q, compileGet(d, schema, `${id}x`), [id], [id], null);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('any query string at all is parsed or refused with a classified 4xx', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ maxLength: 5000 }), (a, b) => {
        for (const raw of [a, b]) {
          try {
            const params = parseParams(raw, MAX_QUERY_LENGTH);
            parseListQuery(schema, params, false);
            parseStatsQuery(schema, params);
          } catch (error) {
            expectClassified(error, isClientError);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('each suite fails when its guarantee is broken', () => {
    // A compiler that writes the first value into the text instead of binding it.
    const inlining: Compiler = (d, s, q) => {
      const c = compileList(d, s, q);
      const first = c.params[0];
      if (!first) return c;
      return {
        sql: c.sql.replace(d.placeholder(first.name), JSON.stringify(first.value)),
        params: c.params.slice(1),
      };
    };
    const details = fc.check(listCompilesSafely(inlining, { parsed: 0 }), {
      numRuns: 200,
      endOnFailure: true,
    });
    expect(details.failed).toBe(true);
  });
});
