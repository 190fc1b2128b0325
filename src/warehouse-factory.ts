import { openDuckDB } from './adapters/duckdb/open.ts';
import { createDuckDBStore } from './adapters/duckdb/store.ts';
import type { Config } from './config.ts';
import type { Warehouse } from './core/warehouse.ts';

/**
 * The warehouse adapter for a configuration: DuckDB (a local file) or BigQuery. The Google clients are
 * made here, not in the adapter, and loaded only when BigQuery is chosen: the local stack never loads
 * gRPC.
 */
export async function createWarehouse(config: Config): Promise<Warehouse> {
  if (config.warehouse.kind === 'bigquery') {
    const bq = config.warehouse;
    const [{ BigQuery }, { managedwriter }, { createBigQueryStore }] = await Promise.all([
      import('@google-cloud/bigquery'),
      import('@google-cloud/bigquery-storage'),
      import('./adapters/bigquery/store.ts'),
    ]);
    return createBigQueryStore({
      bigquery: new BigQuery({ projectId: bq.project, ...(bq.location ? { location: bq.location } : {}) }),
      writer: new managedwriter.WriterClient({ projectId: bq.project }),
      project: bq.project,
      dataset: bq.dataset,
      location: bq.location,
      maximumBytesBilled: bq.maxBytesBilled,
      queryTimeoutMs: bq.queryTimeoutMs,
      defaultRangeDays: bq.defaultRangeDays,
      maxRangeDays: bq.maxRangeDays,
      retry: config.retry,
      closeClients: true,
    });
  }
  const db = await openDuckDB(config.warehouse.path, config.warehouse);
  return createDuckDBStore(db.instance, { closeInstance: true });
}
