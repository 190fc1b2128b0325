import { type DatasetSchema, type FieldSpec, type FieldType, tableNames } from '../dataset-schema.ts';
import { DuctoError } from '../errors.ts';
import type { Value } from '../record.ts';
import type { Filter, ListQuery, StatsQuery } from '../warehouse.ts';
import type { Dialect } from './dialect.ts';

export type ParamType = 'STRING' | 'INT64' | 'FLOAT64' | 'BOOL' | 'TIMESTAMP';

/** A bound parameter; a TIMESTAMP carries epoch microseconds. */
export interface QueryParam {
  name: string;
  value: string | number | boolean | null;
  type: ParamType;
}

/** SQL text holding only schema identifiers and placeholders; every value is in `params`. */
export interface CompiledQuery {
  sql: string;
  params: QueryParam[];
}

const PARAM_TYPE: Record<FieldType, ParamType> = {
  string: 'STRING',
  integer: 'INT64',
  number: 'FLOAT64',
  boolean: 'BOOL',
  timestamp: 'TIMESTAMP',
};

const RANGE = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

const ORDERED_TYPES = new Set<FieldType>(['integer', 'number', 'timestamp']);

function bad(message: string): DuctoError {
  return new DuctoError('bad_parameter', message);
}

/** Collects parameters and hands out their placeholders (p0, p1, …) in order of appearance. */
class Params {
  readonly list: QueryParam[] = [];
  constructor(private readonly dialect: Dialect) {}

  add(value: QueryParam['value'], type: ParamType): string {
    const name = `p${this.list.length}`;
    this.list.push({ name, value, type });
    return this.dialect.placeholder(name);
  }
}

function field(schema: DatasetSchema, name: string): FieldSpec {
  const f = schema.fields.find((x) => x.name === name);
  if (!f) throw bad(`"${name.slice(0, 64)}" is not a field of ${schema.name}`);
  return f;
}

function checkValue(f: FieldSpec, v: Value): string | number | boolean {
  const ok =
    f.type === 'string'
      ? typeof v === 'string'
      : f.type === 'boolean'
        ? typeof v === 'boolean'
        : f.type === 'number'
          ? typeof v === 'number' && Number.isFinite(v)
          : Number.isSafeInteger(v);
  if (!ok || v === null) throw bad(`${f.name}: ${JSON.stringify(v)?.slice(0, 64)} is not a ${f.type}`);
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

function where(conditions: string[]): string {
  return conditions.length === 0 ? '' : `\nWHERE ${conditions.join('\n  AND ')}`;
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
  if (query.after !== null) {
    const cmp = query.order === 'desc' ? '<' : '>';
    const t = params.add(checkValue(field(schema, schema.time.field), query.after.time), 'TIMESTAMP');
    const e = params.add(query.after.eventId, 'STRING');
    // Row-value comparison `(t, id) > (a, b)` is not GoogleSQL; this form is, and uses the time filter.
    conditions.push(`(${time} ${cmp} ${t} OR (${time} = ${t} AND ${id} ${cmp} ${e}))`);
  }
  let limit = '';
  if (query.limit !== null) {
    if (!Number.isSafeInteger(query.limit) || query.limit < 1) throw bad('limit must be a positive integer');
    limit = `\nLIMIT ${query.limit}`;
  }
  const sql =
    `SELECT ${columns(d, schema, query.fields)}\nFROM ${d.table(tableNames(schema).events)}` +
    `${where(conditions)}\nORDER BY ${time} ${dir}, ${id} ${dir}${limit}`;
  return { sql, params: params.list };
}

export function compileGet(d: Dialect, schema: DatasetSchema, eventId: string): CompiledQuery {
  const params = new Params(d);
  const sql =
    `SELECT ${columns(d, schema, null)}\nFROM ${d.table(tableNames(schema).events)}` +
    `\nWHERE ${d.column('event_id')} = ${params.add(eventId, 'STRING')}`;
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
  const sql = `SELECT ${selected.join(',\n  ')}\nFROM ${d.table(tableNames(schema).events)}${where(conditions)}${grouping}`;
  return { sql, params: params.list };
}

/** Columns `newest_event_time` and `newest_ingested_at`, null when the table is empty. */
export function compileFreshness(d: Dialect, schema: DatasetSchema): CompiledQuery {
  const newest = (col: string, alias: string) =>
    `${d.selectTimestamp(`max(${d.column(col)})`)} AS ${d.column(alias)}`;
  const sql =
    `SELECT ${newest(schema.time.field, 'newest_event_time')}, ${newest('ingested_at', 'newest_ingested_at')}` +
    `\nFROM ${d.table(tableNames(schema).events)}`;
  return { sql, params: [] };
}

export function compileCount(d: Dialect, schema: DatasetSchema): CompiledQuery {
  return {
    sql: `SELECT count(*) AS ${d.column('count')}\nFROM ${d.table(tableNames(schema).events)}`,
    params: [],
  };
}
