import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { App } from '../../src/app.ts';
import { readConfig } from '../../src/config.ts';
import type { DatasetSchema } from '../../src/core/dataset-schema.ts';
import { decodeDelivery, encodePushEnvelope } from '../../src/core/delivery.ts';
import type { Warehouse } from '../../src/core/warehouse.ts';
import type { HttpRequest, HttpResponse } from '../../src/http/types.ts';
import { createLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { buildRuntime } from '../../src/runtime.ts';
import { ROOT } from '../../support/root.ts';
import { allSchemas } from './schemas.ts';

export type FlightRecord = {
  date: string;
  delay: number;
  distance: number;
  origin: string;
  destination: string;
};

export function flightsSample(n = 10_000): FlightRecord[] {
  const all = JSON.parse(
    readFileSync(join(ROOT, 'node_modules/vega-datasets/data/flights-10k.json'), 'utf8'),
  ) as FlightRecord[];
  return all.slice(0, n);
}

export interface Harness {
  app: App;
  warehouse: Warehouse;
  schemas: Map<string, DatasetSchema>;
  request(
    path: string,
    headers?: Record<string, string>,
    method?: string,
  ): Promise<{ status: number; headers: Record<string, string>; text: string; json: () => any }>;
  ingestAll(dataset: string, records: unknown[], idOf?: (i: number) => string): Promise<void>;
  close(): Promise<void>;
}

async function readBody(r: HttpResponse): Promise<string> {
  const b = r.body;
  if (b === null) return '';
  if (typeof b === 'string') return b;
  if (Buffer.isBuffer(b)) return b.toString('utf8');
  let s = '';
  for await (const c of b) s += c.toString();
  return s;
}

/** The app on an in-memory DuckDB, driven in-process (no socket), like hono's app.request(). */
export async function createHarness(
  options: { warehouse?: (w: Warehouse) => Warehouse; env?: Record<string, string> } = {},
): Promise<Harness> {
  const schemas = allSchemas();
  const runtime = await buildRuntime(
    readConfig({ DUCTO_BATCH_MAX_MS: '2', DUCTO_DB: ':memory:', ...options.env }),
    {
      schemas,
      logger: createLogger('silent'),
      metrics: createMetrics(undefined, { defaults: false }),
      ...(options.warehouse && { wrapWarehouse: options.warehouse }),
    },
  );
  const { app, warehouse } = runtime;
  return {
    app,
    warehouse,
    schemas,
    async request(path, headers = {}, method = 'GET') {
      const q = path.indexOf('?');
      const req: HttpRequest = {
        method,
        path: q === -1 ? path : path.slice(0, q),
        query: q === -1 ? '' : path.slice(q + 1),
        headers,
        body: null,
      };
      const r = await app.apiHandler(req);
      const text = await readBody(r);
      return { status: r.status, headers: r.headers, text, json: () => JSON.parse(text) };
    },
    async ingestAll(dataset, records, idOf = (i) => `${dataset}-${i}`) {
      const results = await Promise.all(
        records.map((r, i) =>
          app.ingest(
            decodeDelivery(
              JSON.parse(encodePushEnvelope(JSON.stringify(r), `m${i}`, { event_id: idOf(i), dataset })),
            ),
            null,
          ),
        ),
      );
      const bad = results.filter((r) => r.outcome === 'rejected');
      if (bad.length > 0) throw new Error(`ingest rejected ${bad.length}: ${bad[0]!.code} ${bad[0]!.detail}`);
    },
    close: () => runtime.close(),
  };
}
