import { type DatasetSchema, type FieldSpec, type FieldType, tableNames } from '../dataset-schema.ts';
import { DuctoError, type RejectCode } from '../errors.ts';
import type { Value } from '../record.ts';
import { fitsType } from '../row-check.ts';
import type { Micros } from '../time.ts';
import type {
  Filter,
  Freshness,
  ListQuery,
  RejectedQuery,
  RejectedRow,
  ReplayMark,
  ReplayOutcome,
  StatsQuery,
} from '../warehouse.ts';
import type { Dialect } from './dialect.ts';
import { ALL_TIME, type RangeScope, type TimeBounds, type TimeRange } from './partition-range.ts';

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

function rangeOf(d: Dialect, scope: RangeScope, bounds: TimeBounds): TimeRange | null {
  return d.partitions ? d.partitions.policy.range(scope, bounds) : null;
}

function limitClause(d: Dialect, params: Params, limit: number): string {
  if (!Number.isSafeInteger(limit) || limit < 1) throw bad('limit must be a positive integer');
  return `\nLIMIT ${d.bindLimit ? params.add(limit, 'INT64') : limit}`;
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

/** The columns `compileRejected` selects, in this order. */
export const REJECTED_SELECT = [
  'message_id',
  'event_id',
  'code',
  'detail',
  'payload',
  'attributes',
  'publish_time',
  'received_at',
  'replayed_at',
  'replay_outcome',
] as const;

/** The select list of `REJECTED_SELECT`: attributes as JSON text, times as the dialect selects them. */
function rejectedColumns(d: Dialect): string {
  const c = d.column;
  const time = (name: string) => `${d.selectTimestamp(c(name))} AS ${c(name)}`;
  return [
    ...REJECTED_SELECT.slice(0, 5).map((name) => c(name)),
    `${d.jsonText(c('attributes'))} AS ${c('attributes')}`,
    time('publish_time'),
    time('received_at'),
    time('replayed_at'),
    c('replay_outcome'),
  ].join(', ');
}

/** `received_at` within a range, as parameters. */
function receivedWithin(d: Dialect, params: Params, range: TimeRange | null): string[] {
  const at = d.column('received_at');
  return range === null
    ? []
    : [`${at} >= ${params.add(range.from, 'TIMESTAMP')} AND ${at} < ${params.add(range.to, 'TIMESTAMP')}`];
}

/**
 * The newest rows of `<dataset>_rejected` (for operations and tests); on a partitioned warehouse only
 * the lookup range.
 */
export function compileRejected(d: Dialect, schema: DatasetSchema, limit: number): CompiledQuery {
  if (!Number.isSafeInteger(limit) || limit < 0)
    throw new DuctoError('internal', 'limit must be an integer ≥ 0');
  const params = new Params(d);
  const c = d.column;
  const conditions = receivedWithin(d, params, rangeOf(d, 'lookup', { from: null, to: null }));
  const sql =
    `SELECT ${rejectedColumns(d)}\nFROM ${d.table(tableNames(schema).rejected)}${where(conditions)}` +
    `\nORDER BY ${c('received_at')} DESC, ${c('message_id')} DESC\nLIMIT ${d.bindLimit ? params.add(limit, 'INT64') : limit}`;
  return { sql, params: params.list };
}

/**
 * The rejected rows a replay may still move (never replayed, or rejected again), oldest first in
 * (received_at, message_id) order, after a position, by code and received time. On a partitioned
 * warehouse the received range is the one a query of those bounds would scan.
 */
export function compileReplayable(d: Dialect, schema: DatasetSchema, q: RejectedQuery): CompiledQuery {
  const params = new Params(d);
  const c = d.column;
  const at = c('received_at');
  const conditions = [
    `(${c('replay_outcome')} IS NULL OR ${c('replay_outcome')} = ${params.add('rejected', 'STRING')})`,
  ];
  const range = rangeOf(d, 'query', { from: q.from, to: q.to });
  conditions.push(...receivedWithin(d, params, range ?? boundsOf(q)));
  if (q.codes !== null) {
    if (q.codes.length === 0) throw bad('codes must name at least one code, or be null');
    conditions.push(`${c('code')} IN (${q.codes.map((code) => params.add(code, 'STRING')).join(', ')})`);
  }
  if (q.after !== null) {
    const t = params.add(q.after.receivedAt, 'TIMESTAMP');
    conditions.push(
      `(${at} > ${t} OR (${at} = ${t} AND ${c('message_id')} > ${params.add(q.after.messageId, 'STRING')}))`,
    );
  }
  const sql =
    `SELECT ${rejectedColumns(d)}\nFROM ${d.table(tableNames(schema).rejected)}${where(conditions)}` +
    `\nORDER BY ${at}, ${c('message_id')}${limitClause(d, params, q.limit)}`;
  return { sql, params: params.list };
}

/** The received range of a query's own bounds, where the dialect imposes none; null when unbounded. */
function boundsOf(q: RejectedQuery): TimeRange | null {
  if (q.from === null && q.to === null) return null;
  return { from: q.from ?? ALL_TIME.from, to: q.to ?? ALL_TIME.to };
}

/** Marks in groups one statement can record: same outcome, code, detail and time, at most 500 each. */
export function groupReplayMarks(marks: ReplayMark[]): ReplayMark[][] {
  const groups = new Map<string, ReplayMark[]>();
  for (const m of marks) {
    const key = JSON.stringify([m.outcome, m.code, m.detail, m.at]);
    const list = groups.get(key) ?? [];
    list.push(m);
    groups.set(key, list);
  }
  const out: ReplayMark[][] = [];
  for (const list of groups.values())
    for (let i = 0; i < list.length; i += 500) out.push(list.slice(i, i + 500));
  return out;
}

/**
 * Records one replay outcome on every rejected row of these messages. All marks share outcome, code
 * and detail (the caller groups them); the received range names the partitions the rows are in.
 */
export function compileMarkReplayed(d: Dialect, schema: DatasetSchema, marks: ReplayMark[]): CompiledQuery {
  const first = marks[0];
  if (!first) throw new DuctoError('internal', 'no replay marks to record');
  if (
    marks.some(
      (m) =>
        m.outcome !== first.outcome ||
        m.code !== first.code ||
        m.detail !== first.detail ||
        m.at !== first.at,
    )
  )
    throw new DuctoError('internal', 'replay marks of one statement share outcome, code, detail and time');
  const params = new Params(d);
  const c = d.column;
  const received = marks.map((m) => m.receivedAt);
  const set = [
    `${c('replayed_at')} = ${params.add(first.at, 'TIMESTAMP')}`,
    `${c('replay_outcome')} = ${params.add(first.outcome, 'STRING')}`,
    `${c('code')} = ${params.add(first.code, 'STRING')}`,
    `${c('detail')} = ${params.add(first.detail, 'STRING')}`,
  ];
  const conditions = [
    `${c('message_id')} IN (${marks.map((m) => params.add(m.messageId, 'STRING')).join(', ')})`,
    ...receivedWithin(d, params, { from: Math.min(...received), to: Math.max(...received) + 1 }),
  ];
  return {
    sql: `UPDATE ${d.table(tableNames(schema).rejected)}\nSET ${set.join(', ')}${where(conditions)}`,
    params: params.list,
  };
}

/** A row of `compileRejected`'s answer, once the adapter has read the payload as bytes. */
export function readRejected(r: Record<string, unknown>, payload: Uint8Array | null): RejectedRow {
  return {
    messageId: r.message_id as string,
    eventId: (r.event_id as string | null | undefined) ?? null,
    code: r.code as RejectCode,
    detail: r.detail as string,
    payload,
    attributes: JSON.parse(r.attributes as string) as Record<string, string>,
    publishTime: (r.publish_time as Micros | null | undefined) ?? null,
    receivedAt: r.received_at as Micros,
    replayedAt: (r.replayed_at as Micros | null | undefined) ?? null,
    replayOutcome: (r.replay_outcome as ReplayOutcome | null | undefined) ?? null,
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
