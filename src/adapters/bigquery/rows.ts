import type { FieldSpec } from '../../core/dataset-schema.ts';
import type { EventRow, RejectedRow } from '../../core/warehouse.ts';

/**
 * A row as the Storage Write API's JSON writer takes it: column name → value; TIMESTAMP as epoch µs,
 * BYTES as base64 (which the protobuf encoder decodes back to the bytes).
 */
export type JsonRow = Record<string, string | number | boolean | null>;

/** The events table row: schema fields, then the ingest metadata columns. */
export function eventJson(fields: FieldSpec[], row: EventRow): JsonRow {
  const out: JsonRow = {};
  for (const f of fields) out[f.name] = row.fields[f.name] ?? null;
  out.event_id = row.eventId;
  out.publish_time = row.publishTime;
  out.ingested_at = row.ingestedAt;
  return out;
}

/** The `_rejected` table row: the payload byte for byte (it may be invalid UTF-8), attributes as JSON text. */
export function rejectedJson(r: RejectedRow): JsonRow {
  return {
    message_id: r.messageId,
    event_id: r.eventId,
    code: r.code,
    detail: r.detail,
    payload: r.payload === null ? null : Buffer.from(r.payload).toString('base64'),
    attributes: JSON.stringify(r.attributes),
    publish_time: r.publishTime,
    received_at: r.receivedAt,
  };
}

/** An upper estimate of a row's encoded size, to keep each append request under the API's limit. */
export function approxBytes(row: JsonRow): number {
  let n = 16;
  for (const [k, v] of Object.entries(row)) {
    n += k.length + 12;
    if (typeof v === 'string') n += Buffer.byteLength(v);
  }
  return n;
}
