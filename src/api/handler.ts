import FindMyWay from 'find-my-way';
import { DuctoError } from '../core/errors.ts';
import { problem } from '../http/problem.ts';
import type { Handler, HttpRequest, HttpResponse } from '../http/types.ts';
import { bound } from '../metrics.ts';
import { type CacheResult, ResponseCache } from './cache.ts';
import { createDataRoutes, type DataRouteOptions } from './data-routes.ts';
import { installFreshnessProbe } from './freshness-probe.ts';
import { type OpsRouteOptions, opsRoutes } from './ops-routes.ts';
import type { RequestContext, Route, RouteParams } from './route.ts';
import { isWarehouseError } from './stream.ts';

export interface ApiOptions extends Omit<DataRouteOptions, 'cache'>, OpsRouteOptions {
  cacheTtlMs: number;
  cacheMaxEntries: number;
  cacheMaxBytes: number;
  onError?: (error: unknown, req: HttpRequest) => void;
  /** Called once per request when its response (or its streamed body's head) is ready: one log line. */
  onRequest?: (log: RequestLog, code: string | undefined, req: HttpRequest) => void;
  /** How long a scrape of /metrics waits for each dataset's freshness (default 2000 ms). */
  freshnessTimeoutMs?: number;
}

/** What one API request log line says: no rows, no query values, the route pattern not the path. */
export interface RequestLog {
  method: string;
  route: string;
  status: number;
  durationMs: number;
  /** hit, miss or shared when the response went through the cache. */
  cache?: CacheResult;
}

/**
 * The API as one host-independent handler: node:http serves it locally and in the container, the
 * functions-framework serves it as the `api` Cloud Run function. This module routes and instruments
 * (request counts, durations, one log line per request, through a per-request context); the routes
 * are in data-routes.ts and ops-routes.ts.
 */
export function createApiHandler(options: ApiOptions): Handler & { cache: ResponseCache } {
  const { schemas, warehouse, metrics } = options;
  // Label children bound once: a lookup by label values on every request is measurable here.
  const cacheCounters = {
    hit: metrics.cacheRequests.labels({ result: 'hit' }),
    miss: metrics.cacheRequests.labels({ result: 'miss' }),
    shared: metrics.cacheRequests.labels({ result: 'shared' }),
  };
  const maxAge = Math.floor(options.cacheTtlMs / 1000);
  const cache = new ResponseCache({
    ttlMs: options.cacheTtlMs,
    maxEntries: options.cacheMaxEntries,
    maxBytes: options.cacheMaxBytes,
    cacheControl: `private, max-age=${maxAge}`,
    onLookup: (result) => cacheCounters[result].inc(),
  });
  installFreshnessProbe(schemas, warehouse, metrics, options.freshnessTimeoutMs ?? 2000);
  const data = createDataRoutes({ ...options, cache });

  const router = FindMyWay<FindMyWay.HTTPVersion.V1>({ ignoreTrailingSlash: true, maxParamLength: 300 });
  const add = (pattern: string, route: Route) => {
    for (const method of ['GET', 'HEAD'] as const) router.on(method, pattern, () => {}, { pattern, route });
  };
  add('/v1/:dataset', data.list);
  add('/v1/:dataset/stats', data.stats);
  add('/v1/:dataset/:event_id', data.one);
  for (const [pattern, route] of opsRoutes(options)) add(pattern, route);

  // Label children bound once per route and status, and per route and cache result: prom-client
  // hashes the label values on every inc() and observe() otherwise.
  const requestCounters = new Map<string, { inc(): void }>();
  const durations = new Map<string, { observe(value: number): void }>();
  const count = (route: string, status: number) =>
    bound(requestCounters, `${route} ${status}`, () =>
      metrics.apiRequests.labels({ route, status: String(status) }),
    ).inc();
  const observe = (route: string, cache: CacheResult | 'none', seconds: number) =>
    bound(durations, `${route} ${cache}`, () => metrics.apiDuration.labels({ route, cache })).observe(
      seconds,
    );

  /** Routes a request; the context learns the route pattern first, so a route's errors keep its label. */
  const dispatch = (req: HttpRequest, ctx: RequestContext): Promise<HttpResponse> | HttpResponse => {
    const method = req.method === 'HEAD' ? 'HEAD' : 'GET';
    const found = router.find(method, req.path);
    if (!found) throw new DuctoError('not_found', `no route ${req.path.slice(0, 100)}`);
    const { pattern, route } = found.store as { pattern: string; route: Route };
    ctx.route = pattern;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const r = problem(
        new DuctoError('method_not_allowed', `${req.method.slice(0, 16)} is not allowed; use GET`),
      );
      r.headers.allow = 'GET, HEAD';
      return r;
    }
    return route(req, found.params as RouteParams, ctx);
  };

  const handler = async (req: HttpRequest): Promise<HttpResponse> => {
    const started = performance.now();
    const ctx: RequestContext = { route: 'unmatched', cache: undefined };
    let response: HttpResponse;
    let code: string | undefined;
    try {
      response = await dispatch(req, ctx);
      if (response.status === 405) code = 'method_not_allowed';
    } catch (error) {
      if (!(error instanceof DuctoError)) options.onError?.(error, req);
      if (isWarehouseError(error)) metrics.warehouseErrors.inc({ kind: 'read' });
      code = error instanceof DuctoError ? error.code : 'internal';
      response = problem(error);
      if (
        error instanceof DuctoError &&
        error.code === 'warehouse_unavailable' &&
        !response.headers['retry-after']
      ) {
        response.headers['retry-after'] = '5';
      }
    }
    const seconds = (performance.now() - started) / 1000;
    count(ctx.route, response.status);
    // A cache result is set only when a cached JSON answer (200 or 304) was served: an error or a
    // stream has none, and is `none` here.
    observe(ctx.route, ctx.cache ?? 'none', seconds);
    if (options.onRequest) {
      const log: RequestLog = {
        method: req.method.length > 16 ? req.method.slice(0, 16) : req.method,
        route: ctx.route,
        status: response.status,
        durationMs: Math.round(seconds * 1e4) / 10,
      };
      if (ctx.cache) log.cache = ctx.cache;
      options.onRequest(log, code, req);
    }
    return response;
  };
  return Object.assign(handler, { cache });
}
