import { type DatasetSchema, tableNames } from '../dataset-schema.ts';
import { duckdbDialect } from '../sql/dialect.ts';
import { type ColumnType, EVENT_METADATA_COLUMNS, REJECTED_COLUMNS } from './system-columns.ts';

const DUCKDB_TYPES: Record<ColumnType, string> = {
  string: 'VARCHAR',
  integer: 'BIGINT',
  number: 'DOUBLE',
  boolean: 'BOOLEAN',
  // TIMESTAMP (no zone) holds UTC microseconds, the precision of the port's Micros.
  timestamp: 'TIMESTAMP',
  bytes: 'BLOB',
  json: 'JSON',
};

export interface DuckDBColumn {
  name: string;
  type: string;
  /** Constraint text after the type (`NOT NULL`, `PRIMARY KEY`), empty when none. */
  constraint: string;
}

const column = (c: { name: string; type: ColumnType; required: boolean }): DuckDBColumn => ({
  name: c.name,
  type: DUCKDB_TYPES[c.type],
  constraint: c.required ? 'NOT NULL' : '',
});

/** The events table's columns: the schema fields in order, then the ingest metadata. */
export function duckdbEventColumns(schema: DatasetSchema): DuckDBColumn[] {
  return [
    ...schema.fields.map(column),
    // The primary key is what makes a redelivered message a no-op (INSERT … ON CONFLICT DO NOTHING).
    ...EVENT_METADATA_COLUMNS.map((c) =>
      c.name === 'event_id' ? { ...column(c), constraint: 'PRIMARY KEY' } : column(c),
    ),
  ];
}

function createTable(name: string, columns: DuckDBColumn[]): string {
  const lines = columns.map(
    (c) => `  ${duckdbDialect.column(c.name)} ${c.type}${c.constraint && ` ${c.constraint}`}`,
  );
  return `CREATE TABLE IF NOT EXISTS ${duckdbDialect.table(name)} (\n${lines.join(',\n')}\n)`;
}

/**
 * The statements that create a dataset's tables when missing, and those that bring a table created by
 * an earlier release up to date (nullable columns added since: additive, idempotent).
 */
export function duckdbDdl(schema: DatasetSchema): { events: string; rejected: string; upgrades: string[] } {
  const names = tableNames(schema);
  // Any nullable column a later release added (replayed_at, replay_outcome) is added in place; the
  // rest already exist, and IF NOT EXISTS makes that a no-op. The same rule as BigQuery's ensure.
  const added = REJECTED_COLUMNS.filter((c) => !c.required).map(column);
  return {
    events: createTable(names.events, duckdbEventColumns(schema)),
    rejected: createTable(names.rejected, REJECTED_COLUMNS.map(column)),
    upgrades: added.map(
      (c) =>
        `ALTER TABLE ${duckdbDialect.table(names.rejected)} ADD COLUMN IF NOT EXISTS ${duckdbDialect.column(c.name)} ${c.type}`,
    ),
  };
}
