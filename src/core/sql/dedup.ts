import type { DatasetSchema } from '../dataset-schema.ts';

/**
 * The columns every copy of one event shares: its id, its time and its clustering values (a
 * redelivered message carries the same bytes). Deduplicating within them, rather than on the id
 * alone, is what keeps a filter on the time column a partition filter (and one on a clustering column
 * a cluster filter) when it is applied to the deduplicated rows: removing whole window partitions
 * never changes which copy wins in the others. A window on `event_id` alone makes BigQuery scan every
 * partition, and a `require_partition_filter` table refuse the query.
 */
export function dedupKey(schema: DatasetSchema): string[] {
  return [...new Set(['event_id', schema.time.field, ...schema.clustering])];
}

/**
 * GoogleSQL selecting the rows of `table` that satisfy `where`, one per event: the copy written first
 * (earliest `ingested_at`). `column` quotes a column name; `table` is already a quoted reference.
 */
export function uniqueEventsSelect(
  column: (name: string) => string,
  schema: DatasetSchema,
  table: string,
  where: string,
): string {
  const key = dedupKey(schema).map(column).join(', ');
  // QUALIFY needs a WHERE (or GROUP BY / HAVING) beside it; callers pass `TRUE` when they have none.
  return (
    `SELECT *\nFROM ${table}\nWHERE ${where}\n` +
    `QUALIFY ROW_NUMBER() OVER (PARTITION BY ${key} ORDER BY ${column('ingested_at')}) = 1`
  );
}
