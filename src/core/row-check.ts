import type { FieldSpec } from './dataset-schema.ts';
import type { Value } from './record.ts';
import type { EventRow, WriteResult } from './warehouse.ts';

/** Whether a value has the JS type of a field of this type (timestamps are epoch microseconds). */
export function fitsType(type: FieldSpec['type'], v: Value): boolean {
  switch (type) {
    case 'string':
      return typeof v === 'string';
    case 'boolean':
      return typeof v === 'boolean';
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    default:
      return Number.isSafeInteger(v);
  }
}

/**
 * Why an event cannot be stored as typed, or null. Adapters check it before anything is sent, so a
 * row is all or nothing: a warehouse client may coerce a wrong type silently (BigQuery's JSON writer
 * sends "late" in an INT64 column as 0).
 */
function eventProblem(fields: FieldSpec[], row: EventRow): string | null {
  if (typeof row.eventId !== 'string' || row.eventId.length === 0) return 'event_id is empty';
  if (!Number.isSafeInteger(row.ingestedAt)) return 'ingested_at is not a time';
  if (row.publishTime !== null && !Number.isSafeInteger(row.publishTime)) return 'publish_time is not a time';
  for (const f of fields) {
    const v = row.fields[f.name] ?? null;
    if (v === null) {
      if (f.required) return `${f.name} is required`;
      continue;
    }
    if (!fitsType(f.type, v)) return `${f.name} is not a ${f.type}`;
  }
  return null;
}

/**
 * A batch as every adapter sends it: the first copy of each event id (a second copy in one batch is
 * only a duplicate, and an INSERT holding one key twice fails), and the rows that cannot be stored as
 * typed refused one by one with their reason, before anything is sent.
 */
export function screenBatch(
  fields: FieldSpec[],
  rows: EventRow[],
): { rows: EventRow[]; refused: WriteResult['refused'] } {
  const kept: EventRow[] = [];
  const refused: WriteResult['refused'] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    if (seen.has(row.eventId)) continue;
    seen.add(row.eventId);
    const problem = eventProblem(fields, row);
    if (problem === null) kept.push(row);
    else refused.push({ eventId: row.eventId, code: 'warehouse_rejected', detail: problem });
  }
  return { rows: kept, refused };
}
