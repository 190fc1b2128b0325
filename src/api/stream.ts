import type { DatasetSchema } from '../core/dataset-schema.ts';
import { DuctoError } from '../core/errors.ts';
import type { ListQuery, Warehouse } from '../core/warehouse.ts';
import type { HttpResponse } from '../http/types.ts';
import type { Metrics } from '../metrics.ts';
import { csvHeader, csvRow, type RecordEncoder } from './encode.ts';

export const isWarehouseError = (error: unknown): boolean =>
  error instanceof DuctoError && error.code === 'warehouse_unavailable';

/**
 * A list as a stream of CSV or NDJSON, never cached. The first chunk is read before the status line,
 * so a warehouse that is down is answered 503 + Retry-After (problem+json) rather than with a 200
 * whose body breaks off; a client that goes away mid-stream releases the warehouse cursor.
 */
export async function streamBody(
  warehouse: Warehouse,
  metrics: Metrics,
  schema: DatasetSchema,
  query: ListQuery,
  encode: RecordEncoder,
  representation: 'csv' | 'ndjson',
): Promise<HttpResponse> {
  const rows = warehouse.stream(schema, query)[Symbol.asyncIterator]();
  const read = async () => {
    try {
      return await rows.next();
    } catch (error) {
      if (isWarehouseError(error)) metrics.warehouseErrors.inc({ kind: 'read' });
      throw error;
    }
  };
  let next = await read();
  const body = (async function* () {
    try {
      if (representation === 'csv') yield csvHeader(schema, query.fields);
      while (!next.done) {
        let text = '';
        for (const row of next.value)
          text += representation === 'csv' ? csvRow(encode(row)) : `${JSON.stringify(encode(row))}\n`;
        yield text;
        next = await read();
      }
    } finally {
      if (!next.done) await rows.return?.();
    }
  })();
  const type = representation === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8';
  return { status: 200, headers: { 'content-type': type, 'cache-control': 'no-store' }, body };
}
