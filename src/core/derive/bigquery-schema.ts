import type { DatasetSchema, FieldType } from '../dataset-schema.ts';

/** A BigQuery table field as the API and Terraform's `google_bigquery_table.schema` take it. */
export interface BigQueryField {
  name: string;
  type: 'STRING' | 'INT64' | 'FLOAT64' | 'BOOL' | 'TIMESTAMP' | 'BYTES' | 'JSON';
  mode: 'REQUIRED' | 'NULLABLE';
  description: string;
}

export const BIGQUERY_TYPES: Record<FieldType, BigQueryField['type']> = {
  string: 'STRING',
  integer: 'INT64',
  number: 'FLOAT64',
  boolean: 'BOOL',
  timestamp: 'TIMESTAMP',
};

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
    schema: [
      ...schema.fields.map((f) => ({
        name: f.name,
        type: BIGQUERY_TYPES[f.type],
        mode: f.required ? ('REQUIRED' as const) : ('NULLABLE' as const),
        description: f.description,
      })),
      { name: 'event_id', type: 'STRING', mode: 'REQUIRED', description: 'Idempotency key of the event.' },
      { name: 'publish_time', type: 'TIMESTAMP', mode: 'NULLABLE', description: 'Pub/Sub publish time.' },
      {
        name: 'ingested_at',
        type: 'TIMESTAMP',
        mode: 'REQUIRED',
        description: 'When ingest received the message.',
      },
    ],
    time_partitioning: { type: 'DAY', field: schema.time.field, require_partition_filter: true },
    clustering: schema.clustering,
  };
  const rejected: BigQueryTable = {
    table_id: `${schema.name}_rejected`,
    description: `Messages of ${schema.name} that can never be valid events, with the reason code and the raw payload.`,
    schema: [
      { name: 'message_id', type: 'STRING', mode: 'REQUIRED', description: 'Pub/Sub message id.' },
      {
        name: 'event_id',
        type: 'STRING',
        mode: 'NULLABLE',
        description: 'The event_id attribute, when set.',
      },
      { name: 'code', type: 'STRING', mode: 'REQUIRED', description: 'Stable reason code.' },
      { name: 'detail', type: 'STRING', mode: 'REQUIRED', description: 'Human-readable reason.' },
      { name: 'payload', type: 'BYTES', mode: 'NULLABLE', description: 'The raw message data.' },
      { name: 'attributes', type: 'JSON', mode: 'REQUIRED', description: 'The message attributes.' },
      { name: 'publish_time', type: 'TIMESTAMP', mode: 'NULLABLE', description: 'Pub/Sub publish time.' },
      {
        name: 'received_at',
        type: 'TIMESTAMP',
        mode: 'REQUIRED',
        description: 'When ingest received the message.',
      },
    ],
    time_partitioning: { type: 'DAY', field: 'received_at', require_partition_filter: true },
    clustering: ['code'],
  };
  return { events, rejected };
}
