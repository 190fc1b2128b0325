import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckDB } from '../src/adapters/duckdb/open.ts';
import { createDuckDBStore } from '../src/adapters/duckdb/store.ts';
import { startStack } from '../src/cli/serve.ts';
import { readConfig } from '../src/config.ts';
import { decodeDelivery, encodePushEnvelope } from '../src/core/delivery.ts';
import type { Warehouse } from '../src/core/warehouse.ts';
import { createLogger } from '../src/logger.ts';
import { buildRuntime } from '../src/runtime.ts';

// src/runtime.ts: the one composition root every entry point and harness builds its app with.
describe('buildRuntime', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ducto-runtime-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const quiet = createLogger('silent');
  const delivery = (id: string) =>
    decodeDelivery(
      JSON.parse(
        encodePushEnvelope(
          JSON.stringify({
            date: '2001-01-01T00:00:00Z',
            delay: 1,
            distance: 2,
            origin: 'AAA',
            destination: 'BBB',
          }),
          `m-${id}`,
          { dataset: 'flights', event_id: id },
        ),
      ),
    );

  it('opens the configured warehouse, makes its tables, and closes it on close', async () => {
    const db = join(dir, 'own.duckdb');
    const runtime = await buildRuntime(readConfig({ DUCTO_DB: db, LOG_LEVEL: 'silent' }), { logger: quiet });
    expect(runtime.warehouse.kind).toBe('duckdb');
    expect([...runtime.schemas.keys()]).toContain('flights');
    expect((await runtime.app.ingest(delivery('a'), null)).outcome).toBe('stored');
    // Counted by the instrumented ingest, whatever the edge.
    const counted = (await runtime.app.metrics.ingestMessages.get()).values.find(
      (v) => v.labels.outcome === 'stored',
    );
    expect(counted?.value).toBe(1);
    await runtime.close();
    await expect(runtime.warehouse.count(runtime.schemas.get('flights')!)).rejects.toMatchObject({
      code: 'warehouse_unavailable',
    });
    // Durable: a second runtime on the same file finds the row.
    const again = await buildRuntime(readConfig({ DUCTO_DB: db }), { logger: quiet });
    expect(await again.warehouse.count(again.schemas.get('flights')!)).toBe(1);
    await again.close();
  });

  it('leaves a warehouse it was given open for its owner', async () => {
    const { instance } = await openDuckDB(':memory:');
    const store = createDuckDBStore(instance, { closeInstance: true });
    const runtime = await buildRuntime(readConfig({}), { warehouse: store, logger: quiet });
    await runtime.app.ingest(delivery('b'), null);
    await runtime.close();
    expect(await store.count(runtime.schemas.get('flights')!)).toBe(1);
    await store.close();
  });

  it('puts injected faults and the caller’s wrapper between the app and the store', async () => {
    const seen: string[] = [];
    const runtime = await buildRuntime(
      readConfig(
        { DUCTO_DB: ':memory:', DUCTO_FAULTS: 'warehouse.write.error=1', DUCTO_WRITE_RETRY_ATTEMPTS: '3' },
        { allowFaults: true },
      ),
      {
        logger: quiet,
        wrapWarehouse: (w): Warehouse => ({
          ...w,
          write: (batch) => {
            seen.push(batch.dataset);
            return w.write(batch);
          },
        }),
      },
    );
    // Every write fails (the fault) and the writer retries within its budget, then gives up: 503.
    await expect(runtime.app.ingest(delivery('c'), null)).rejects.toMatchObject({ status: 503 });
    expect(seen).toHaveLength(3);
    await runtime.close();
  }, 60_000);
});

describe('ducto serve and DUCTO_WAREHOUSE', () => {
  it('refuses BigQuery instead of opening DuckDB behind the user’s back', async () => {
    const config = readConfig({ DUCTO_WAREHOUSE: 'bigquery', DUCTO_BQ_PROJECT: 'a-real-project', PORT: '0' });
    await expect(startStack(config, createLogger('silent'))).rejects.toThrow(
      /ducto serve runs the local stack on DuckDB; DUCTO_WAREHOUSE=bigquery is for the deployed services/,
    );
  });
});
