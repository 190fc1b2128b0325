/**
 * The one composition root: configuration → logger → schemas → warehouse (with injected faults and
 * wrappers) → tables → app. Every entry point (`ducto serve`, the container roles, the Cloud Run
 * functions) and every harness (tests, benchmarks, the BigQuery smoke test) builds its app here, so
 * they differ only in what they serve and how.
 */
import { type App, createApp } from './app.ts';
import type { Config } from './config.ts';
import type { DatasetSchema } from './core/dataset-schema.ts';
import { FaultInjector } from './core/faults.ts';
import { loadSchemas, selectSchemas } from './core/schema-files.ts';
import type { Warehouse } from './core/warehouse.ts';
import type { Handler } from './http/types.ts';
import { createLogger, type Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import { createWarehouse } from './warehouse-factory.ts';

export interface RuntimeOptions {
  /** Default: a logger at the configured level on stdout. */
  logger?: Logger;
  /** Default: the schema files of `DUCTO_SCHEMAS_DIR`, narrowed to `DUCTO_DATASETS`. */
  schemas?: ReadonlyMap<string, DatasetSchema>;
  /**
   * An open warehouse to use instead of opening the configured one; its owner closes it. Harnesses
   * that share one database between several apps pass it.
   */
  warehouse?: Warehouse;
  /** Wraps the warehouse the app uses (tests inject failures and delays through it). */
  wrapWarehouse?: (warehouse: Warehouse) => Warehouse;
  /** Default: a registry of the app's own. */
  metrics?: Metrics;
  /** Routes the API serves besides its own (the local dashboard). */
  extraRoutes?: Record<string, Handler>;
}

export interface Runtime {
  config: Config;
  logger: Logger;
  schemas: ReadonlyMap<string, DatasetSchema>;
  /** What the app writes to and reads from: the store with its faults and wrappers. */
  warehouse: Warehouse;
  app: App;
  /** Flushes the writer, then closes the warehouse if the runtime opened it. */
  close(): Promise<void>;
}

export async function buildRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const schemas = options.schemas ?? selectSchemas(loadSchemas(config.schemasDir), config.datasets);
  const owned = options.warehouse === undefined;
  const store = options.warehouse ?? (await createWarehouse(config));
  try {
    await store.ensure([...schemas.values()]);
  } catch (error) {
    if (owned) await store.close();
    throw error;
  }
  let warehouse = store;
  // Set only where `--allow-faults` let the configuration carry them (`ducto serve`).
  if (config.faults) {
    logger.warn({ faults: config.faults }, 'fault injection is ON (DUCTO_FAULTS, --allow-faults)');
    warehouse = new FaultInjector(config.faults).wrap(warehouse);
  }
  if (options.wrapWarehouse) warehouse = options.wrapWarehouse(warehouse);
  const app = createApp(config, {
    warehouse,
    schemas,
    logger,
    ...(options.metrics && { metrics: options.metrics }),
    ...(options.extraRoutes && { extraRoutes: options.extraRoutes }),
  });
  return {
    config,
    logger,
    schemas,
    warehouse,
    app,
    async close() {
      await app.close();
      if (owned) await warehouse.close();
    },
  };
}
