/**
 * The write statements: `INSERT … SELECT` fed by one JSON-array parameter per column and zipped by
 * UNNEST, so a batch is one prepared statement whatever its size; and the rows encoded for them.
 */
import type { DuckDBConnection, DuckDBPreparedStatement } from '@duckdb/node-api';
import { type DatasetSchema, type FieldSpec, tableNames } from '../../core/dataset-schema.ts';
import { duckdbDialect as dialect } from '../../core/sql/dialect.ts';
import type { EventRow, RejectedRow } from '../../core/warehouse.ts';

// Lone UTF-16 surrogates become U+FFFD, as Node's UTF-8 conversion (and so the Appender) makes them;
// a lone surrogate escaped in JSON would fail the whole batch.
const toWellFormed = (String.prototype as unknown as { toWellFormed(this: string): string }).toWellFormed;
export const text = (s: string): string => toWellFormed.call(s);

type JsonKind = 'BIGINT' | 'DOUBLE' | 'BOOLEAN' | 'VARCHAR';
type Cell = string | number | boolean | null;

const json = {
  /** Safe integers, doubles, booleans: their JS text is their JSON text, except -0. */
  scalars(values: Cell[]): string {
    let out = '[';
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (i > 0) out += ',';
      out += v === null ? 'null' : Object.is(v, -0) ? '-0.0' : String(v);
    }
    return `${out}]`;
  },
  strings(values: Array<string | null>): string {
    return JSON.stringify(values.map((v) => (v === null ? null : text(v))));
  },
};

/** One column of an INSERT fed by JSON arrays: how to send it and how the SELECT converts it. */
interface Column {
  name: string;
  kind: JsonKind;
  /** The stored value from the decoded one (`c` is its placeholder). */
  convert: (c: string) => string;
}

const asIs = (c: string) => c;
const timestamp = (c: string) => `make_timestamp(${c})`;

function columnKind(type: FieldSpec['type']): Pick<Column, 'kind' | 'convert'> {
  switch (type) {
    case 'string':
      return { kind: 'VARCHAR', convert: asIs };
    case 'integer':
      return { kind: 'BIGINT', convert: asIs };
    case 'number':
      return { kind: 'DOUBLE', convert: asIs };
    case 'boolean':
      return { kind: 'BOOLEAN', convert: asIs };
    case 'timestamp':
      return { kind: 'BIGINT', convert: timestamp };
  }
}

/** `INSERT INTO table (columns) SELECT …` from one JSON-array parameter per column, zipped by UNNEST. */
function insertSql(table: string, columns: Column[], tail = ''): string {
  const names = columns.map((c) => dialect.column(c.name)).join(', ');
  const converted = columns.map((c, i) => c.convert(`c${i}`)).join(', ');
  // `$n::VARCHAR`: a parameter of unresolved type would make DuckDB plan the statement anew on each run.
  const unnested = columns
    .map((c, i) => `UNNEST(from_json($${i + 1}::VARCHAR, '["${c.kind}"]')) AS c${i}`)
    .join(', ');
  return `INSERT INTO ${dialect.table(table)} (${names}) SELECT ${converted} FROM (SELECT ${unnested})${tail}`;
}

export interface Statements {
  fields: FieldSpec[];
  /** Appends events; fails on an event id stored already. */
  events: DuckDBPreparedStatement;
  /** Appends the events not stored already and returns their ids. */
  fresh: DuckDBPreparedStatement;
  rejected: DuckDBPreparedStatement;
}

function eventColumns(fields: FieldSpec[]): Column[] {
  return [
    ...fields.map((f) => ({ name: f.name, ...columnKind(f.type) })),
    { name: 'event_id', kind: 'VARCHAR', convert: asIs },
    { name: 'publish_time', kind: 'BIGINT', convert: timestamp },
    { name: 'ingested_at', kind: 'BIGINT', convert: timestamp },
  ];
}

const REJECTED_COLUMNS: Column[] = [
  { name: 'message_id', kind: 'VARCHAR', convert: asIs },
  { name: 'event_id', kind: 'VARCHAR', convert: asIs },
  { name: 'code', kind: 'VARCHAR', convert: asIs },
  { name: 'detail', kind: 'VARCHAR', convert: asIs },
  // BLOB bytes as base64: the JSON text stays ASCII whatever the payload holds.
  { name: 'payload', kind: 'VARCHAR', convert: (c) => `from_base64(${c})` },
  { name: 'attributes', kind: 'VARCHAR', convert: asIs },
  { name: 'publish_time', kind: 'BIGINT', convert: timestamp },
  { name: 'received_at', kind: 'BIGINT', convert: timestamp },
];

export async function prepareStatements(conn: DuckDBConnection, schema: DatasetSchema): Promise<Statements> {
  const names = tableNames(schema);
  const columns = eventColumns(schema.fields);
  const prepared: DuckDBPreparedStatement[] = [];
  try {
    for (const sql of [
      insertSql(names.events, columns),
      insertSql(names.events, columns, ` ON CONFLICT DO NOTHING RETURNING ${dialect.column('event_id')}`),
      insertSql(names.rejected, REJECTED_COLUMNS),
    ])
      prepared.push(await conn.prepare(sql));
  } catch (e) {
    for (const p of prepared) p.destroySync();
    throw e;
  }
  const [events, fresh, rejected] = prepared as [
    DuckDBPreparedStatement,
    DuckDBPreparedStatement,
    DuckDBPreparedStatement,
  ];
  return { fields: schema.fields, events, fresh, rejected };
}

export function bindColumns(statement: DuckDBPreparedStatement, columns: string[]): void {
  for (let i = 0; i < columns.length; i++) statement.bindVarchar(i + 1, columns[i]!);
}

export function eventArrays(fields: FieldSpec[], rows: EventRow[]): string[] {
  const out: string[] = [];
  for (const f of fields) {
    const values = rows.map((r) => r.fields[f.name] ?? null);
    out.push(f.type === 'string' ? json.strings(values as Array<string | null>) : json.scalars(values));
  }
  out.push(json.strings(rows.map((r) => r.eventId)));
  out.push(json.scalars(rows.map((r) => r.publishTime)));
  out.push(json.scalars(rows.map((r) => r.ingestedAt)));
  return out;
}

export function rejectedArrays(rows: RejectedRow[]): string[] {
  const base64 = (b: Uint8Array | null) =>
    b === null ? null : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
  const attributes = (a: Record<string, string>) =>
    // Well-formed keys and values: the JSON column refuses an escaped lone surrogate.
    JSON.stringify(Object.fromEntries(Object.entries(a).map(([k, v]) => [text(k), text(v)])));
  return [
    json.strings(rows.map((r) => r.messageId)),
    json.strings(rows.map((r) => r.eventId)),
    json.strings(rows.map((r) => r.code)),
    json.strings(rows.map((r) => r.detail)),
    json.strings(rows.map((r) => base64(r.payload))),
    json.strings(rows.map((r) => attributes(r.attributes))),
    json.scalars(rows.map((r) => r.publishTime)),
    json.scalars(rows.map((r) => r.receivedAt)),
  ];
}
