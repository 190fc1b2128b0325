/**
 * The columns ducto adds to every dataset, in one list each: the ingest metadata after the schema's own
 * fields on the events table, and the whole `_rejected` table. derive/duckdb-ddl.ts and
 * derive/bigquery-schema.ts map them to each warehouse's types, so the two cannot drift apart.
 */
import type { FieldType } from '../dataset-schema.ts';

/** A schema field's type, or one only system columns use. */
export type ColumnType = FieldType | 'bytes' | 'json';

export interface SystemColumn {
  name: string;
  type: ColumnType;
  required: boolean;
  description: string;
}

const PUBLISH_TIME: SystemColumn = {
  name: 'publish_time',
  type: 'timestamp',
  required: false,
  description: 'Pub/Sub publish time.',
};

export const EVENT_METADATA_COLUMNS: readonly SystemColumn[] = [
  { name: 'event_id', type: 'string', required: true, description: 'Idempotency key of the event.' },
  PUBLISH_TIME,
  {
    name: 'ingested_at',
    type: 'timestamp',
    required: true,
    description: 'When ingest received the message.',
  },
];

export const REJECTED_COLUMNS: readonly SystemColumn[] = [
  { name: 'message_id', type: 'string', required: true, description: 'Pub/Sub message id.' },
  { name: 'event_id', type: 'string', required: false, description: 'The event_id attribute, when set.' },
  { name: 'code', type: 'string', required: true, description: 'Stable reason code.' },
  { name: 'detail', type: 'string', required: true, description: 'Human-readable reason.' },
  // Bytes, not a string: a rejected payload may be invalid UTF-8 and must be kept byte for byte.
  { name: 'payload', type: 'bytes', required: false, description: 'The raw message data.' },
  { name: 'attributes', type: 'json', required: true, description: 'The message attributes.' },
  PUBLISH_TIME,
  {
    name: 'received_at',
    type: 'timestamp',
    required: true,
    description: 'When ingest received the message.',
  },
  // Written by `ducto replay --rejected` (core/replay.ts); null until a replay has tried the message.
  {
    name: 'replayed_at',
    type: 'timestamp',
    required: false,
    description: 'When a replay last tried this message again.',
  },
  {
    name: 'replay_outcome',
    type: 'string',
    required: false,
    description:
      'What that replay did: stored, duplicate (stored already), or rejected (code and detail updated).',
  },
];
