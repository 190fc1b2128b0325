/**
 * The SQL of `<dataset>_rejected`: the newest rows (operations, tests), the rows a replay may still
 * move, and the marks a replay records; every value a parameter, every range on received_at.
 */
import { type DatasetSchema, tableNames } from '../dataset-schema.ts';
import { DuctoError, type RejectCode } from '../errors.ts';
import type { Micros } from '../time.ts';
import type { RejectedQuery, RejectedRow, ReplayMark, ReplayOutcome } from '../warehouse.ts';
import type { Dialect } from './dialect.ts';
import { ALL_TIME, type TimeRange } from './partition-range.ts';
import { bad, type CompiledQuery, limitClause, Params, rangeOf, where } from './parts.ts';

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
    // Also a plain lower bound, which a partitioned warehouse can prune on.
    conditions.push(`${at} >= ${t}`);
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
    // Stored and duplicate keep their reason: only a rejection again sets code and detail.
    const key = JSON.stringify(
      m.outcome === 'rejected' ? [m.outcome, m.code, m.detail, m.at] : [m.outcome, m.at],
    );
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
  const rejectedAgain = first.outcome === 'rejected';
  if (
    marks.some(
      (m) =>
        m.outcome !== first.outcome ||
        m.at !== first.at ||
        (rejectedAgain && (m.code !== first.code || m.detail !== first.detail)),
    )
  )
    throw new DuctoError(
      'internal',
      'replay marks of one statement share outcome and time (and reason, if rejected)',
    );
  const params = new Params(d);
  const c = d.column;
  const received = marks.map((m) => m.receivedAt);
  const set = [
    `${c('replayed_at')} = ${params.add(first.at, 'TIMESTAMP')}`,
    `${c('replay_outcome')} = ${params.add(first.outcome, 'STRING')}`,
    // A message rejected again carries its new reason; a stored one keeps the reason it had.
    ...(rejectedAgain
      ? [
          `${c('code')} = ${params.add(first.code, 'STRING')}`,
          `${c('detail')} = ${params.add(first.detail, 'STRING')}`,
        ]
      : []),
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
