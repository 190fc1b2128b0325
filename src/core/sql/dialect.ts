import type { DatasetSchema } from '../dataset-schema.ts';
import { DuctoError } from '../errors.ts';
import { uniqueEventsSelect } from './dedup.ts';
import { ALL_PARTITIONS, type PartitionPolicy } from './partition-range.ts';

/**
 * What differs between the warehouses' SQL. The compiler writes everything else once, so a query
 * means the same in DuckDB and BigQuery.
 */
export interface Dialect {
  readonly name: string;
  /** Quotes a column name (always one validated against a dataset schema). */
  column(name: string): string;
  /** A table reference from a table name derived from a dataset name. */
  table(name: string): string;
  /** The placeholder of the bound parameter `name`. */
  placeholder(name: string): string;
  /** The start of the UTC hour or day holding a timestamp expression, as a timestamp. */
  truncate(expr: string, unit: 'hour' | 'day'): string;
  /** A timestamp as selected: the adapter must read it back as epoch microseconds. */
  selectTimestamp(expr: string): string;
  /** A JSON column as its JSON text. */
  jsonText(expr: string): string;
  /** Binds LIMIT as a parameter too, so no value at all is written into the SQL text. */
  readonly bindLimit?: boolean;
  /**
   * For a warehouse whose table neither refuses a duplicate nor should be read without a time range
   * (BigQuery): every query reads only the partitions of its time range, and sees each event once.
   * Absent for DuckDB, whose primary key already keeps each event once.
   */
  readonly partitions?: {
    policy: PartitionPolicy;
    /** A FROM source: the rows of `table` satisfying `where` (a time-range condition), one per event. */
    unique(schema: DatasetSchema, table: string, where: string): string;
  };
}

// Schema names are at most 63 characters; derived aliases (`<measure>_avg`) add a few. Quoting is safe
// because of the character class, not the length.
const IDENT = /^[a-z][a-z0-9_]{0,127}$/;

/** Refuses any identifier that is not a plain schema-style name, so quoting never has anything to escape. */
function checkIdent(name: string): string {
  if (!IDENT.test(name)) throw new DuctoError('internal', `"${name.slice(0, 64)}" is not a valid identifier`);
  return name;
}

/** DuckDB: `"name"` identifiers and `$name` parameters; the adapter converts TIMESTAMP values to µs. */
export const duckdbDialect: Dialect = {
  name: 'duckdb',
  column: (name) => `"${checkIdent(name)}"`,
  table: (name) => `"${checkIdent(name)}"`,
  placeholder: (name) => `$${checkIdent(name)}`,
  truncate: (expr, unit) => `date_trunc('${unit}', ${expr})`,
  selectTimestamp: (expr) => expr,
  jsonText: (expr) => `CAST(${expr} AS VARCHAR)`,
};

export interface BigQueryDialectOptions {
  /**
   * The full table path (`project.dataset.table`) of a table name: the adapter decides where the
   * dataset lives.
   */
  tableName(name: string): string;
  /** The time range each query scans; by default the query's own bounds, else every partition. */
  partitions?: PartitionPolicy;
}

// Project ids may carry a domain prefix (`example.com:project`); datasets and tables are word characters.
const BIGQUERY_PATH =
  /^(?:[a-z][a-z0-9.-]*:)?[a-z][a-z0-9-]{0,62}\.[A-Za-z0-9_]{1,1024}\.[A-Za-z0-9_]{1,1024}$/;

/**
 * GoogleSQL: backtick-quoted identifiers, `@name` parameters (TIMESTAMP parameters are bound typed),
 * timestamps selected as UNIX_MICROS so the client never rounds them through a Date. Every query filters
 * on the partition column and reads the events deduplicated (see dedup.ts).
 */
export function bigqueryDialect(options: BigQueryDialectOptions): Dialect {
  const column = (name: string) => `\`${checkIdent(name)}\``;
  return {
    name: 'bigquery',
    column,
    table: (name) => {
      const path = options.tableName(checkIdent(name));
      if (!BIGQUERY_PATH.test(path)) {
        throw new DuctoError('config_invalid', `"${path.slice(0, 200)}" is not a BigQuery table path`);
      }
      return `\`${path}\``;
    },
    placeholder: (name) => `@${checkIdent(name)}`,
    truncate: (expr, unit) => `TIMESTAMP_TRUNC(${expr}, ${unit === 'hour' ? 'HOUR' : 'DAY'}, 'UTC')`,
    selectTimestamp: (expr) => `UNIX_MICROS(${expr})`,
    jsonText: (expr) => `TO_JSON_STRING(${expr})`,
    bindLimit: true,
    partitions: {
      policy: options.partitions ?? ALL_PARTITIONS,
      unique: (schema, table, where) => `(\n${indent(uniqueEventsSelect(column, schema, table, where))}\n)`,
    },
  };
}

function indent(text: string): string {
  return text.replace(/^/gm, '  ');
}
