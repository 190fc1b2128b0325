import type { DatasetSchema } from '../core/dataset-schema.ts';
import type { Warehouse } from '../core/warehouse.ts';
import type { Handler } from '../http/types.ts';
import type { Metrics } from '../metrics.ts';
import { docsRoutes } from './docs-page.ts';
import { readiness } from './readiness.ts';
import { JSON_TYPE, json, type Route } from './route.ts';

export interface OpsRouteOptions {
  schemas: ReadonlyMap<string, DatasetSchema>;
  warehouse: Warehouse;
  metrics: Metrics;
  /** The OpenAPI document served at /openapi.json. */
  openapi: () => unknown;
  /** Extra routes of the local stack (e.g. the dashboard); path → handler. */
  extraRoutes?: Record<string, Handler>;
}

/** The routes for operators and tools: health, readiness, the OpenAPI document and its reference page, metrics, extras. */
export function opsRoutes(options: OpsRouteOptions): Array<[pattern: string, route: Route]> {
  const { schemas, warehouse, metrics } = options;
  const healthy = JSON.stringify({ status: 'ok' });
  return [
    [
      '/healthz',
      () => ({
        status: 200,
        headers: { 'content-type': JSON_TYPE, 'cache-control': 'no-store' },
        body: healthy,
      }),
    ],
    [
      '/readyz',
      async () => {
        const r = await readiness(warehouse, schemas);
        if (!r.ready) metrics.warehouseErrors.inc({ kind: 'read' });
        return json(r.ready ? 200 : 503, r, r.ready ? {} : { 'retry-after': '5' });
      },
    ],
    ['/openapi.json', async () => json(200, options.openapi(), { 'cache-control': 'public, max-age=300' })],
    [
      '/metrics',
      async () => ({
        status: 200,
        headers: { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' },
        body: await metrics.registry.metrics(),
      }),
    ],
    ...docsRoutes(),
    ...Object.entries(options.extraRoutes ?? {}).map(([path, h]): [string, Route] => [path, (req) => h(req)]),
  ];
}
