/**
 * The one SQL compiler of the events tables: list, get, stats, freshness and count, for any dialect
 * (sql/dialect.ts). Identifiers come from the schema, every value is a parameter; golden files in
 * test/golden/sql hold each query shape per dialect. The rejected table's SQL is in sql/rejected.ts.
 */
import { type DatasetSchema, type FieldSpec, type FieldType, tableNames } from '../dataset-schema.ts';
import type { Value } from '../record.ts';
import { fitsType } from '../row-check.ts';
import type { Micros } from '../time.ts';
import type { Filter, Freshness, ListQuery, StatsQuery } from '../warehouse.ts';
import type { Dialect } from './dialect.ts';
import type { TimeBounds, TimeRange } from './partition-range.ts';
import { bad, type CompiledQuery, limitClause, Params, type ParamType, rangeOf, where } from './parts.ts';

export type { CompiledQuery, ParamType, QueryParam } from './parts.ts';

const PARAM_TYPE: Record<FieldType, ParamType> = {
  string: 'STRING',
  integer: 'INT64',
  number: 'FLOAT64',
  boolean: 'BOOL',
  timestamp: 'TIMESTAMP',
};

const RANGE = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

const ORDERED_TYPES = new Set<FieldType>(['integer', 'number', 'timestamp']);

function field(schema: DatasetSchema, name: string): FieldSpec {
  const f = schema.fields.find((x) => x.name === name);
  if (!f) throw bad(`"${name.slice(0, 64)}" is not a field of ${schema.name}`);
  return f;
}

function checkValue(f: FieldSpec, v: Value): string | number | boolean {
  if (v === null || !fitsType(f.type, v))
    throw bad(`${f.name}: ${JSON.stringify(v)?.slice(0, 64)} is not a ${f.type}`);
  return v;
}

function condition(d: Dialect, schema: DatasetSchema, filter: Filter, params: Params): string {
  const f = field(schema, filter.field);
  const col = d.column(f.name);
  const type = PARAM_TYPE[f.type];
  if (filter.op === 'in') {
    if (filter.values.length === 0) throw bad(`${f.name}: "in" needs at least one value`);
    const list = filter.values.map((v) => params.add(checkValue(f, v), type));
    return `${col} IN (${list.join(', ')})`;
  }
  const op = RANGE[filter.op];
  if (!op) throw bad(`${f.name}: unknown operator`);
  if (!ORDERED_TYPES.has(f.type)) throw bad(`${f.name}: ${filter.op} applies to numbers and times`);
  if (filter.values.length !== 1) throw bad(`${f.name}: ${filter.op} takes exactly one value`);
  return `${col} ${op} ${params.add(checkValue(f, filter.values[0]!), type)}`;
}

/** The bounds the query's own filters put on the event time (`from` inclusive, `to` exclusive). */
function timeBounds(schema: DatasetSchema, filters: Filter[]): TimeBounds {
  const f = field(schema, schema.time.field);
  const bounds: TimeBounds = { from: null, to: null };
  const lower = (v: number) => {
    bounds.from = bounds.from === null ? v : Math.max(bounds.from, v);
  };
  const upper = (v: number) => {
    bounds.to = bounds.to === null ? v : Math.min(bounds.to, v);
  };
  for (const filter of filters) {
    if (filter.field !== f.name || filter.values.length === 0) continue;
    const values = filter.values.map((v) => checkValue(f, v) as number);
    if (filter.op === 'in') {
      lower(Math.min(...values));
      upper(Math.max(...values) + 1);
    } else if (filter.op === 'gt' || filter.op === 'gte') lower(values[0]!);
    else if (filter.op === 'lt') upper(values[0]!);
    else if (filter.op === 'lte') upper(values[0]! + 1);
  }
  return bounds;
}

/**
 * The FROM clause over a dataset's events, and the conditions it adds. A partitioned dialect reads only
 * the partitions of `range` and, when `unique`, each event once; otherwise this is the table itself.
 */
function source(
  d: Dialect,
  schema: DatasetSchema,
  params: Params,
  range: TimeRange | null,
  unique: boolean,
): { from: string; where: string[] } {
  const table = d.table(tableNames(schema).events);
  if (!d.partitions || range === null) return { from: table, where: [] };
  const time = d.column(schema.time.field);
  const inRange = `${time} >= ${params.add(range.from, 'TIMESTAMP')} AND ${time} < ${params.add(range.to, 'TIMESTAMP')}`;
  return unique
    ? { from: d.partitions.unique(schema, table, inRange), where: [] }
    : { from: table, where: [inRange] };
}

function select(d: Dialect, f: Pick<FieldSpec, 'name' | 'type'>): string {
  const col = d.column(f.name);
  if (f.type !== 'timestamp') return col;
  const expr = d.selectTimestamp(col);
  return expr === col ? col : `${expr} AS ${col}`;
}

/** event_id first, then the schema fields (all, or the projection plus the time field) in schema order. */
function columns(d: Dialect, schema: DatasetSchema, fields: string[] | null): string {
  let chosen = schema.fields;
  if (fields !== null) {
    const wanted = new Set(fields.map((n) => field(schema, n).name));
    wanted.add(schema.time.field);
    chosen = schema.fields.filter((f) => wanted.has(f.name));
  }
  return [d.column('event_id'), ...chosen.map((f) => select(d, f))].join(', ');
}

export function compileList(d: Dialect, schema: DatasetSchema, query: ListQuery): CompiledQuery {
  const params = new Params(d);
  const conditions = query.filters.map((f) => condition(d, schema, f, params));
  const time = d.column(schema.time.field);
  const id = d.column('event_id');
  const dir = query.order === 'desc' ? 'DESC' : 'ASC';
  let range = rangeOf(d, 'query', timeBounds(schema, query.filters));
  if (query.after !== null) {
    const cmp = query.order === 'desc' ? '<' : '>';
    const after = checkValue(field(schema, schema.time.field), query.after.time) as number;
    const t = params.add(after, 'TIMESTAMP');
    const e = params.add(query.after.eventId, 'STRING');
    // Row-value comparison `(t, id) > (a, b)` is not GoogleSQL; this form is, and uses the time filter.
    conditions.push(`(${time} ${cmp} ${t} OR (${time} = ${t} AND ${id} ${cmp} ${e}))`);
    // Later pages scan fewer partitions: nothing before (or, descending, after) the cursor can match.
    if (range !== null) {
      range =
        query.order === 'desc'
          ? { from: range.from, to: Math.min(range.to, after + 1) }
          : { from: Math.max(range.from, after), to: range.to };
    }
  }
  const src = source(d, schema, params, range, true);
  const limit = query.limit === null ? '' : limitClause(d, params, query.limit);
  const sql =
    `SELECT ${columns(d, schema, query.fields)}\nFROM ${src.from}` +
    `${where([...src.where, ...conditions])}\nORDER BY ${time} ${dir}, ${id} ${dir}${limit}`;
  return { sql, params: params.list };
}

export function compileGet(d: Dialect, schema: DatasetSchema, eventId: string): CompiledQuery {
  const params = new Params(d);
  const condition = `${d.column('event_id')} = ${params.add(eventId, 'STRING')}`;
  const src = source(d, schema, params, rangeOf(d, 'lookup', { from: null, to: null }), true);
  const sql = `SELECT ${columns(d, schema, null)}\nFROM ${src.from}${where([...src.where, condition])}`;
  return { sql, params: params.list };
}

/**
 * One row per group: the group_by columns, `bucket` (the UTC hour or day of the time field) when
 * asked, `count`, and `<measure>_min|max|avg|sum` for every measure. One row when nothing is grouped.
 */
export function compileStats(d: Dialect, schema: DatasetSchema, query: StatsQuery): CompiledQuery {
  const params = new Params(d);
  const conditions = query.filters.map((f) => condition(d, schema, f, params));
  for (const g of query.groupBy) {
    if (!schema.dimensions.includes(g)) throw bad(`"${g.slice(0, 64)}" is not a dimension of ${schema.name}`);
  }
  if (new Set(query.groupBy).size !== query.groupBy.length) throw bad('group_by names a field twice');
  const groups = query.groupBy.map((g) => d.column(g));
  const selected = [...groups];
  if (query.bucket !== null) {
    const bucket = d.column('bucket');
    const truncated = d.truncate(d.column(schema.time.field), query.bucket);
    selected.push(`${d.selectTimestamp(truncated)} AS ${bucket}`);
    groups.push(bucket);
  }
  selected.push(`count(*) AS ${d.column('count')}`);
  for (const m of schema.measures) {
    const col = d.column(m);
    for (const agg of ['min', 'max', 'avg', 'sum'])
      selected.push(`${agg}(${col}) AS ${d.column(`${m}_${agg}`)}`);
  }
  const grouping =
    groups.length === 0
      ? ''
      : `\nGROUP BY ${groups.join(', ')}\nORDER BY ${groups.map((g) => `${g} ASC NULLS LAST`).join(', ')}`;
  const src = source(d, schema, params, rangeOf(d, 'query', timeBounds(schema, query.filters)), true);
  const sql = `SELECT ${selected.join(',\n  ')}\nFROM ${src.from}${where([...src.where, ...conditions])}${grouping}`;
  return { sql, params: params.list };
}

/** Columns `newest_event_time` and `newest_ingested_at`, null when the table is empty. */
export function compileFreshness(d: Dialect, schema: DatasetSchema): CompiledQuery {
  const params = new Params(d);
  const newest = (col: string, alias: string) =>
    `${d.selectTimestamp(`max(${d.column(col)})`)} AS ${d.column(alias)}`;
  // Duplicates cannot change a maximum: the plain table is enough, and reads two columns only.
  const src = source(d, schema, params, rangeOf(d, 'recent', { from: null, to: null }), false);
  const sql =
    `SELECT ${newest(schema.time.field, 'newest_event_time')}, ${newest('ingested_at', 'newest_ingested_at')}` +
    `\nFROM ${src.from}${where(src.where)}`;
  return { sql, params: params.list };
}

/** What the freshness query answered, as the port reports it. */
export function readFreshness(row: Record<string, unknown> | undefined): Freshness {
  return {
    newestEventTime: (row?.newest_event_time as Micros | null | undefined) ?? null,
    newestIngestedAt: (row?.newest_ingested_at as Micros | null | undefined) ?? null,
  };
}

export function compileCount(d: Dialect, schema: DatasetSchema): CompiledQuery {
  const params = new Params(d);
  const src = source(d, schema, params, rangeOf(d, 'lookup', { from: null, to: null }), true);
  return {
    sql: `SELECT count(*) AS ${d.column('count')}\nFROM ${src.from}${where(src.where)}`,
    params: params.list,
  };
}
