import FindMyWay from 'find-my-way';
import { createCursorCodec, queryDigest } from '../core/cursor.ts';
import type { DatasetSchema } from '../core/dataset-schema.ts';
import { DuctoError } from '../core/errors.ts';
import { parseListQuery, parseParams, parseStatsQuery } from '../core/query.ts';
import { microsToIso } from '../core/time.ts';
import type { Warehouse } from '../core/warehouse.ts';
import { problem } from '../http/problem.ts';
import { type Handler, type HttpRequest, type HttpResponse, header } from '../http/types.ts';
import { bound, type Metrics } from '../metrics.ts';
import { type CachedResponse, type CacheResult, type ComputedResponse, ResponseCache } from './cache.ts';
import { createRecordEncoder, csvHeader, csvRow } from './encode.ts';
import { negotiate } from './negotiate.ts';
import { readiness } from './readiness.ts';

export interface ApiOptions {
  schemas: ReadonlyMap<string, DatasetSchema>;
  warehouse: Warehouse;
  metrics: Metrics;
  cursorSecret: string;
  cacheTtlMs: number;
  cacheMaxEntries: number;
  cacheMaxBytes: number;
  maxQueryLength: number;
  /** A stats response is one JSON body: past this many groups it is refused (422). */
  maxStatsGroups: number;
  /** The OpenAPI document served at /openapi.json. */
  openapi: () => unknown;
  /** Extra routes of the local stack (e.g. the dashboard); path → handler. */
  extraRoutes?: Record<string, Handler>;
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

type RouteParams = Record<string, string | undefined>;
/** What a request learns on its way through: the route pattern, and the cache's answer. */
interface RequestContext {
  route: string;
  cache: CacheResult | undefined;
}
type Route = (
  req: HttpRequest,
  params: RouteParams,
  ctx: RequestContext,
) => Promise<HttpResponse> | HttpResponse;

const JSON_TYPE = 'application/json; charset=utf-8';

const isWarehouseError = (error: unknown) =>
  error instanceof DuctoError && error.code === 'warehouse_unavailable';

const withTimeout = <T>(promise: Promise<T>, ms: number): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
};

/**
 * The API as one host-independent handler: node:http serves it locally and in the container, the
 * functions-framework serves it as the `api` Cloud Run function.
 */
export function createApiHandler(options: ApiOptions): Handler & { cache: ResponseCache } {
  const { schemas, warehouse, metrics } = options;
  const cursors = createCursorCodec(options.cursorSecret);
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

  // ducto_freshness_seconds is computed when /metrics is scraped. The last known ingest time is
  // kept, so a warehouse that stops answering shows a growing age (and a read error), not a gap.
  const newestIngested = new Map<string, number>();
  const freshnessTimeoutMs = options.freshnessTimeoutMs ?? 2000;
  const probeFreshness = async (): Promise<Record<string, number | null>> => {
    await Promise.all(
      [...schemas.values()].map(async (schema) => {
        try {
          const f = await withTimeout(warehouse.freshness(schema), freshnessTimeoutMs);
          if (f.newestIngestedAt === null) newestIngested.delete(schema.name);
          else newestIngested.set(schema.name, f.newestIngestedAt);
        } catch {
          metrics.warehouseErrors.inc({ kind: 'read' });
        }
      }),
    );
    const now = Date.now() * 1000;
    const ages: Record<string, number | null> = {};
    for (const name of schemas.keys()) {
      const t = newestIngested.get(name);
      ages[name] = t === undefined ? null : Math.max(0, (now - t) / 1e6);
    }
    return ages;
  };
  metrics.setFreshnessProbe(probeFreshness);

  const datasetOf = (params: RouteParams): DatasetSchema => {
    const name = params.dataset ?? '';
    const schema = schemas.get(name);
    if (!schema) throw new DuctoError('not_found', `no dataset "${name.slice(0, 64)}"`);
    return schema;
  };

  /** A cached response to one request: 304 when its If-None-Match names the entity. */
  const answer = (req: HttpRequest, response: CachedResponse): HttpResponse => {
    const inm = header(req, 'if-none-match');
    if (inm?.split(/\s*,\s*/).some((t) => t === response.etag || t === `W/${response.etag}` || t === '*')) {
      return { status: 304, headers: response.notModifiedHeaders, body: null };
    }
    return { status: response.status, headers: response.headers, body: response.body };
  };

  /**
   * Serves a JSON body through the cache, with ETag and 304. `raw` is the request's own key (its
   * query string as sent), stored as an alias of the canonical key so the next identical request
   * is answered before its parameters are parsed.
   */
  const cached = async (
    req: HttpRequest,
    ctx: RequestContext,
    key: string,
    compute: () => Promise<ComputedResponse>,
    raw?: string,
  ): Promise<HttpResponse> => {
    const { response, result } = await cache.get(key, compute);
    ctx.cache = result;
    if (raw !== undefined) cache.alias(raw, key, response);
    return answer(req, response);
  };

  /** The cached answer under a request's raw key, synchronously, or undefined. */
  const hit = (req: HttpRequest, ctx: RequestContext, raw: string): HttpResponse | undefined => {
    const response = cache.lookup(raw);
    if (!response) return undefined;
    ctx.cache = 'hit';
    return answer(req, response);
  };

  const canonical = (params: Map<string, string>) =>
    JSON.stringify([...params].sort(([a], [b]) => (a < b ? -1 : 1)));

  /** Validates a list request into its port query, cursor position included. */
  const parseList = (schema: DatasetSchema, params: Map<string, string>, stream: boolean) => {
    const parsed = parseListQuery(schema, params, stream);
    const digest = queryDigest(parsed.identity);
    if (parsed.cursor !== null) parsed.query.after = cursors.decode(parsed.cursor, digest);
    return { query: parsed.query, digest, encode: createRecordEncoder(schema, parsed.query.fields) };
  };

  const list: Route = (req, p, ctx) => {
    const schema = datasetOf(p);
    const representation = negotiate(header(req, 'accept'));
    if (representation !== 'json') return streamList(req, schema, representation);
    const raw = `list|${schema.name}|?${req.query}`;
    return hit(req, ctx, raw) ?? listJson(req, schema, ctx, raw);
  };

  const listJson = (req: HttpRequest, schema: DatasetSchema, ctx: RequestContext, raw: string) => {
    const params = parseParams(req.query, options.maxQueryLength);
    // Parsing happens on a miss only: a cached entry exists only for parameters that were valid.
    return cached(
      req,
      ctx,
      `list|${schema.name}|${canonical(params)}`,
      async () => {
        const { query, digest, encode } = parseList(schema, params, false);
        const limit = query.limit!;
        const rows = await warehouse.list(schema, { ...query, limit: limit + 1 });
        const page = rows.slice(0, limit);
        let next: string | null = null;
        const headers: Record<string, string> = { 'content-type': JSON_TYPE };
        if (rows.length > limit) {
          const last = page[page.length - 1]!;
          next = cursors.encode({ time: last[schema.time.field] as number, eventId: last.event_id }, digest);
          const nextParams = new URLSearchParams([...params].filter(([k]) => k !== 'cursor'));
          nextParams.set('cursor', next);
          headers.link = `<${req.path}?${nextParams.toString()}>; rel="next"`;
        }
        const body = Buffer.from(JSON.stringify({ data: page.map(encode), next_cursor: next }));
        return { status: 200, headers, body };
      },
      raw,
    );
  };

  const streamList = async (
    req: HttpRequest,
    schema: DatasetSchema,
    representation: 'csv' | 'ndjson',
  ): Promise<HttpResponse> => {
    const params = parseParams(req.query, options.maxQueryLength);
    const parsed = parseList(schema, params, true);
    const { encode } = parsed;
    const rows = warehouse.stream(schema, parsed.query)[Symbol.asyncIterator]();
    const read = async () => {
      try {
        return await rows.next();
      } catch (error) {
        if (isWarehouseError(error)) metrics.warehouseErrors.inc({ kind: 'read' });
        throw error;
      }
    };
    // The first chunk is read before the status line, so a warehouse that is down is answered
    // 503 + Retry-After (problem+json) rather than with a 200 whose body breaks off.
    let next = await read();
    const body = (async function* () {
      try {
        if (representation === 'csv') yield csvHeader(schema, parsed.query.fields);
        while (!next.done) {
          let text = '';
          for (const row of next.value)
            text += representation === 'csv' ? csvRow(encode(row)) : `${JSON.stringify(encode(row))}\n`;
          yield text;
          next = await read();
        }
      } finally {
        // The client went away mid-stream: release the warehouse cursor.
        if (!next.done) await rows.return?.();
      }
    })();
    const type = representation === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8';
    return { status: 200, headers: { 'content-type': type, 'cache-control': 'no-store' }, body };
  };

  const one: Route = async (req, p, ctx) => {
    const schema = datasetOf(p);
    const id = p.event_id ?? '';
    if (id.length === 0 || id.length > 256)
      throw new DuctoError('bad_parameter', 'the event id must have 1 to 256 characters');
    if (parseParams(req.query, options.maxQueryLength).size > 0) {
      throw new DuctoError('unknown_parameter', 'this route takes no query parameters');
    }
    return cached(req, ctx, `get|${schema.name}|${id}`, async () => {
      const row = await warehouse.get(schema, id);
      if (!row) throw new DuctoError('not_found', `no event "${id.slice(0, 64)}" in ${schema.name}`);
      return {
        status: 200,
        headers: { 'content-type': JSON_TYPE },
        body: Buffer.from(JSON.stringify({ data: createRecordEncoder(schema, null)(row) })),
      };
    });
  };

  const stats: Route = async (req, p, ctx) => {
    const schema = datasetOf(p);
    const params = parseParams(req.query, options.maxQueryLength);
    return cached(req, ctx, `stats|${schema.name}|${canonical(params)}`, async () => {
      const query = parseStatsQuery(schema, params);
      const rows = await warehouse.stats(schema, query);
      if (rows.length > options.maxStatsGroups) {
        throw new DuctoError(
          'result_too_large',
          `${rows.length} groups exceed the limit of ${options.maxStatsGroups}: narrow the filters, group by fewer dimensions or use a coarser bucket`,
        );
      }
      const data = rows.map((r) =>
        query.bucket && typeof r.bucket === 'number' ? { ...r, bucket: microsToIso(r.bucket) } : r,
      );
      return {
        status: 200,
        headers: { 'content-type': JSON_TYPE },
        body: Buffer.from(JSON.stringify({ data })),
      };
    });
  };

  const json = (status: number, value: unknown, extra: Record<string, string> = {}): HttpResponse => ({
    status,
    headers: { 'content-type': JSON_TYPE, 'cache-control': 'no-store', ...extra },
    body: JSON.stringify(value),
  });

  const router = FindMyWay<FindMyWay.HTTPVersion.V1>({ ignoreTrailingSlash: true, maxParamLength: 300 });
  const add = (pattern: string, route: Route) => {
    for (const method of ['GET', 'HEAD'] as const) router.on(method, pattern, () => {}, { pattern, route });
  };
  add('/v1/:dataset', list);
  add('/v1/:dataset/stats', stats);
  add('/v1/:dataset/:event_id', one);
  const healthy = JSON.stringify({ status: 'ok' });
  add('/healthz', () => ({
    status: 200,
    headers: { 'content-type': JSON_TYPE, 'cache-control': 'no-store' },
    body: healthy,
  }));
  add('/readyz', async () => {
    const r = await readiness(warehouse, schemas);
    if (!r.ready) metrics.warehouseErrors.inc({ kind: 'read' });
    return json(r.ready ? 200 : 503, r, r.ready ? {} : { 'retry-after': '5' });
  });
  add('/openapi.json', async () => json(200, options.openapi(), { 'cache-control': 'public, max-age=300' }));
  add('/metrics', async () => ({
    status: 200,
    headers: { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' },
    body: await metrics.registry.metrics(),
  }));
  for (const [path, h] of Object.entries(options.extraRoutes ?? {})) add(path, (req) => h(req));

  // Label children bound once per route and status: prom-client hashes the label values on every
  // inc() and observe() otherwise.
  const requestCounters = new Map<string, { inc(): void }>();
  const durations = new Map<string, { observe(value: number): void }>();
  const count = (route: string, status: number) =>
    bound(requestCounters, `${route} ${status}`, () =>
      metrics.apiRequests.labels({ route, status: String(status) }),
    ).inc();
  const observe = (route: string, seconds: number) =>
    bound(durations, route, () => metrics.apiDuration.labels({ route })).observe(seconds);

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
    observe(ctx.route, seconds);
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
