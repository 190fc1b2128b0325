import { createDuckDBStore, openDuckDB } from './adapters/duckdb-store.ts';
import type { Config } from './config.ts';
import type { Warehouse } from './core/warehouse.ts';

/** The warehouse adapter for a configuration: DuckDB (a local file) today. */
export async function createWarehouse(config: Config): Promise<Warehouse> {
  const db = await openDuckDB(config.dbPath);
  return createDuckDBStore(db.instance, { closeInstance: true });
}
