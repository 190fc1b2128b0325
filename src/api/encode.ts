import type { DatasetSchema } from '../core/dataset-schema.ts';
import type { Value } from '../core/record.ts';
import { microsToIso } from '../core/time.ts';
import type { StoredEvent } from '../core/warehouse.ts';

export type OutputRecord = Record<string, Value>;
export type RecordEncoder = (row: StoredEvent) => OutputRecord;

/** Builds the function that turns a stored row into the API's record: event_id, then fields in schema order. */
export function createRecordEncoder(schema: DatasetSchema, fields: string[] | null): RecordEncoder {
  const selected = schema.fields.filter((f) => fields === null || fields.includes(f.name));
  return (row) => {
    const out: OutputRecord = { event_id: row.event_id };
    for (const f of selected) {
      const v = row[f.name] ?? null;
      out[f.name] = f.type === 'timestamp' && typeof v === 'number' ? microsToIso(v) : v;
    }
    return out;
  };
}

export function csvHeader(schema: DatasetSchema, fields: string[] | null): string {
  const names = [
    'event_id',
    ...schema.fields.filter((f) => fields === null || fields.includes(f.name)).map((f) => f.name),
  ];
  return `${names.join(',')}\r\n`;
}

function csvCell(v: Value): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180 rows; values are written as stored (no spreadsheet-formula rewriting). */
export function csvRow(record: OutputRecord): string {
  return `${Object.values(record).map(csvCell).join(',')}\r\n`;
}
