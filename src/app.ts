import { createApiHandler } from './api/handler.ts';
import type { Config } from './config.ts';
import { MicroBatcher } from './core/batcher.ts';
import type { DatasetSchema } from './core/dataset-schema.ts';
import { openApiDocument } from './core/derive/openapi.ts';
import { createIngest } from './core/ingest.ts';
import type { Warehouse } from './core/warehouse.ts';
import { createIngestHandler } from './http/ingest-handler.ts';
import type { Handler } from './http/types.ts';
import { type IngestFn, instrumentIngest } from './instrument-ingest.ts';
import { type Logger, TRACE_FIELD, traceOf } from './logger.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { VERSION } from './version.ts';

export interface App {
  /** The ingest every edge runs, with its metrics (src/instrument-ingest.ts). */
  ingest: IngestFn;
  ingestHandler: Handler;
  apiHandler: ReturnType<typeof createApiHandler>;
  batcher: MicroBatcher;
  metrics: Metrics;
  schemas: ReadonlyMap<string, DatasetSchema>;
  /** Flushes the writer; the caller closes the warehouse after its servers stop. */
  close(): Promise<void>;
}

/** Wires the core to a warehouse: the same composition runs in `ducto serve` and in the functions. */
export function createApp(
  config: Config,
  deps: {
    warehouse: Warehouse;
    schemas: ReadonlyMap<string, DatasetSchema>;
    logger: Logger;
    metrics?: Metrics;
    extraRoutes?: Record<string, Handler>;
  },
): App {
  const { warehouse, schemas, logger } = deps;
  const metrics = deps.metrics ?? createMetrics();
  if (!schemas.has(config.defaultDataset)) {
    throw new Error(`DUCTO_DEFAULT_DATASET "${config.defaultDataset}" has no schema`);
  }
  const batcher = new MicroBatcher(
    (b) => warehouse.write(b),
    { ...config.batch, retry: warehouse.retriesWrites ? null : config.retry },
    (report) => {
      metrics.batchSize.observe({ dataset: report.dataset }, report.rows + report.rejected);
      metrics.writeSeconds.observe({ dataset: report.dataset }, report.durationMs / 1000);
      metrics.writerDepth.set(batcher.depth);
      if (report.retries > 0) metrics.writeRetries.inc({ dataset: report.dataset }, report.retries);
      if (report.error) {
        metrics.warehouseErrors.inc({ kind: 'write' });
        logger.error(
          { code: 'warehouse_unavailable', err: report.error, ...report, error: undefined },
          'batch write failed; messages left for redelivery',
        );
      } else {
        logger.info(
          { batch: { ...report, durationMs: Math.round(report.durationMs * 10) / 10 } },
          'batch written',
        );
      }
    },
  );
  const ingest = instrumentIngest(
    createIngest({
      schemas,
      defaultDataset: config.defaultDataset,
      batcher,
      maxMessageBytes: config.maxMessageBytes,
    }),
    metrics,
    // One line per rejected message, with its reason code: what the cloud's correctness SLI and
    // DuctoIngestRejectedSpike count. No payload and no detail: those are in <dataset>_rejected.
    (r) =>
      logger.warn(
        { code: r.code, rejected: { dataset: r.dataset, messageId: r.messageId, eventId: r.eventId } },
        'message rejected',
      ),
  );
  let openapi: unknown;
  const apiHandler = createApiHandler({
    schemas,
    warehouse,
    metrics,
    cursorSecret: config.api.cursorSecret,
    cacheTtlMs: config.api.cacheTtlMs,
    cacheMaxEntries: config.api.cacheMaxEntries,
    cacheMaxBytes: config.api.cacheMaxBytes,
    maxQueryLength: config.api.maxQueryLength,
    maxStatsGroups: config.api.maxStatsGroups,
    openapi: () => {
      openapi ??= openApiDocument(schemas.values(), {
        version: VERSION,
        ...(config.api.publicUrl !== null && { serverUrl: config.api.publicUrl }),
      });
      return openapi;
    },
    extraRoutes: deps.extraRoutes,
    onError: (err, req) => logger.error({ code: 'internal', err, path: req.path }, 'request failed'),
    // One line per request: the route pattern (not the path or query values), never rows.
    onRequest: (request, code, req) => {
      const fields: Record<string, unknown> = { request };
      if (code) fields.code = code;
      const trace = traceOf(config.project, req.headers);
      if (trace) fields[TRACE_FIELD] = trace;
      if (request.status >= 500) logger.error(fields, 'request');
      else logger.info(fields, 'request');
    },
  });
  return {
    ingest,
    ingestHandler: createIngestHandler(ingest),
    apiHandler,
    batcher,
    metrics,
    schemas,
    close: () => batcher.close(),
  };
}
