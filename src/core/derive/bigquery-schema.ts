import type { DatasetSchema } from '../dataset-schema.ts';
import { dedupKey, uniqueEventsSelect } from '../sql/dedup.ts';
import { type ColumnType, EVENT_METADATA_COLUMNS, REJECTED_COLUMNS } from './system-columns.ts';

/** A BigQuery table field as the API and Terraform's `google_bigquery_table.schema` take it. */
export interface BigQueryField {
  name: string;
  type: 'STRING' | 'INT64' | 'FLOAT64' | 'BOOL' | 'TIMESTAMP' | 'BYTES' | 'JSON';
  mode: 'REQUIRED' | 'NULLABLE';
  description: string;
}

const BIGQUERY_TYPES: Record<ColumnType, BigQueryField['type']> = {
  string: 'STRING',
  integer: 'INT64',
  number: 'FLOAT64',
  boolean: 'BOOL',
  timestamp: 'TIMESTAMP',
  bytes: 'BYTES',
  json: 'JSON',
};

const field = (c: {
  name: string;
  type: ColumnType;
  required: boolean;
  description: string;
}): BigQueryField => ({
  name: c.name,
  type: BIGQUERY_TYPES[c.type],
  mode: c.required ? 'REQUIRED' : 'NULLABLE',
  description: c.description,
});

export interface BigQueryTable {
  table_id: string;
  description: string;
  schema: BigQueryField[];
  /** Daily partitions on the event time; queries must filter on it. */
  time_partitioning: { type: 'DAY'; field: string; require_partition_filter: boolean };
  clustering: string[];
}

/** The events table and the `_rejected` table of a dataset, in the shape the Terraform reads. */
export function bigqueryTables(schema: DatasetSchema): { events: BigQueryTable; rejected: BigQueryTable } {
  const events: BigQueryTable = {
    table_id: schema.name,
    description: schema.description,
    schema: [...schema.fields.map(field), ...EVENT_METADATA_COLUMNS.map(field)],
    time_partitioning: { type: 'DAY', field: schema.time.field, require_partition_filter: true },
    clustering: schema.clustering,
  };
  const rejected: BigQueryTable = {
    table_id: `${schema.name}_rejected`,
    description: `Messages of ${schema.name} that can never be valid events, with the reason code and the raw payload.`,
    schema: REJECTED_COLUMNS.map(field),
    time_partitioning: { type: 'DAY', field: 'received_at', require_partition_filter: true },
    clustering: ['code'],
  };
  return { events, rejected };
}

/**
 * The same table as the BigQuery REST API's Table resource takes it (tables.insert), for an adapter
 * that creates missing tables itself: Terraform and the adapter then build one table from one source.
 */
export function bigqueryTableResource(t: BigQueryTable): Record<string, unknown> {
  return {
    description: t.description,
    schema: { fields: t.schema },
    timePartitioning: { type: t.time_partitioning.type, field: t.time_partitioning.field },
    requirePartitionFilter: t.time_partitioning.require_partition_filter,
    clustering: { fields: t.clustering },
  };
}

/** The deduplicating view over a dataset's events, for Terraform (`google_bigquery_table.view`). */
export interface BigQueryView {
  table_id: string;
  description: string;
  /** GoogleSQL with `${project}` and `${dataset}` left for Terraform's `templatestring()` to fill. */
  query: string;
  use_legacy_sql: false;
}

/**
 * `<dataset>_dedup`: every event once, for people and tools querying BigQuery directly. The API
 * does not read through it: it inlines the same form with its time range inside (sql/dedup.ts).
 */
export function bigqueryDedupView(schema: DatasetSchema): BigQueryView {
  const column = (name: string) => `\`${name}\``;
  const table = `\`\${project}.\${dataset}.${schema.name}\``;
  return {
    table_id: `${schema.name}_dedup`,
    description:
      `Each event of ${schema.name} once (the copy written first), deduplicated on ${dedupKey(schema).join(', ')}. ` +
      `Filter on ${schema.time.field}: the table requires a partition filter.`,
    query: uniqueEventsSelect(column, schema, table, 'TRUE'),
    use_legacy_sql: false,
  };
}
