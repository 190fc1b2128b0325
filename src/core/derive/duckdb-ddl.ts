import { type DatasetSchema, type FieldType, tableNames } from '../dataset-schema.ts';
import { duckdbDialect } from '../sql/dialect.ts';

const DUCKDB_TYPES: Record<FieldType, string> = {
  string: 'VARCHAR',
  integer: 'BIGINT',
  number: 'DOUBLE',
  boolean: 'BOOLEAN',
  // TIMESTAMP (no zone) holds UTC microseconds, the precision of the port's Micros.
  timestamp: 'TIMESTAMP',
};

export interface DuckDBColumn {
  name: string;
  type: string;
  /** Constraint text after the type (`NOT NULL`, `PRIMARY KEY`), empty when none. */
  constraint: string;
}

/** The events table's columns: the schema fields in order, then the ingest metadata. */
export function duckdbEventColumns(schema: DatasetSchema): DuckDBColumn[] {
  return [
    ...schema.fields.map((f) => ({
      name: f.name,
      type: DUCKDB_TYPES[f.type],
      constraint: f.required ? 'NOT NULL' : '',
    })),
    // The primary key is what makes a redelivered message a no-op (INSERT … ON CONFLICT DO NOTHING).
    { name: 'event_id', type: 'VARCHAR', constraint: 'PRIMARY KEY' },
    { name: 'publish_time', type: 'TIMESTAMP', constraint: '' },
    { name: 'ingested_at', type: 'TIMESTAMP', constraint: 'NOT NULL' },
  ];
}

function duckdbRejectedColumns(): DuckDBColumn[] {
  return [
    { name: 'message_id', type: 'VARCHAR', constraint: 'NOT NULL' },
    { name: 'event_id', type: 'VARCHAR', constraint: '' },
    { name: 'code', type: 'VARCHAR', constraint: 'NOT NULL' },
    { name: 'detail', type: 'VARCHAR', constraint: 'NOT NULL' },
    // BLOB, not VARCHAR: a rejected payload may be invalid UTF-8 and must be kept byte for byte.
    { name: 'payload', type: 'BLOB', constraint: '' },
    { name: 'attributes', type: 'JSON', constraint: 'NOT NULL' },
    { name: 'publish_time', type: 'TIMESTAMP', constraint: '' },
    { name: 'received_at', type: 'TIMESTAMP', constraint: 'NOT NULL' },
  ];
}

function createTable(name: string, columns: DuckDBColumn[]): string {
  const lines = columns.map(
    (c) => `  ${duckdbDialect.column(c.name)} ${c.type}${c.constraint && ` ${c.constraint}`}`,
  );
  return `CREATE TABLE IF NOT EXISTS ${duckdbDialect.table(name)} (\n${lines.join(',\n')}\n)`;
}

/** The statements that create a dataset's tables when missing. */
export function duckdbDdl(schema: DatasetSchema): { events: string; rejected: string } {
  const names = tableNames(schema);
  return {
    events: createTable(names.events, duckdbEventColumns(schema)),
    rejected: createTable(names.rejected, duckdbRejectedColumns()),
  };
}
