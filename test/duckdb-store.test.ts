import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDuckDBStore, openDuckDB } from '../src/adapters/duckdb-store.ts';
import { describeWarehouseContract } from './contract/warehouse-contract.ts';

describeWarehouseContract('duckdb', async () => {
  // A file, not :memory:, so writes go through the WAL as they do in `npm start`.
  const dir = await mkdtemp(join(tmpdir(), 'ducto-duckdb-'));
  const store = createDuckDBStore((await openDuckDB(join(dir, 'contract.duckdb'))).instance);
  return { store, cleanup: () => store.close().finally(() => rm(dir, { recursive: true, force: true })) };
});
