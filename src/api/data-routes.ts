import { createCursorCodec, queryDigest } from '../core/cursor.ts';
import type { DatasetSchema } from '../core/dataset-schema.ts';
import { DuctoError } from '../core/errors.ts';
import { parseListQuery, parseParams, parseStatsQuery } from '../core/query.ts';
import { microsToIso } from '../core/time.ts';
import type { Warehouse } from '../core/warehouse.ts';
import { type HttpRequest, type HttpResponse, header } from '../http/types.ts';
import type { Metrics } from '../metrics.ts';
import type { CachedResponse, ComputedResponse, ResponseCache } from './cache.ts';
import { createRecordEncoder } from './encode.ts';
import { negotiate } from './negotiate.ts';
import { JSON_TYPE, type RequestContext, type Route, type RouteParams } from './route.ts';
import { streamBody } from './stream.ts';

export interface DataRouteOptions {
  schemas: ReadonlyMap<string, DatasetSchema>;
  warehouse: Warehouse;
  metrics: Metrics;
  cache: ResponseCache;
  cursorSecret: string;
  maxQueryLength: number;
  /** A stats response is one JSON body: past this many groups it is refused (422). */
  maxStatsGroups: number;
}

/**
 * The data routes: a dataset's list (JSON through the cache, or a CSV/NDJSON stream), one event, and
 * stats. JSON answers go through the response cache with ETag and 304.
 */
export function createDataRoutes(options: DataRouteOptions): { list: Route; one: Route; stats: Route } {
  const { schemas, warehouse, metrics, cache } = options;
  const cursors = createCursorCodec(options.cursorSecret);

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

  const list: Route = (req, p, ctx) => {
    const schema = datasetOf(p);
    const representation = negotiate(header(req, 'accept'));
    if (representation !== 'json') {
      const { query, encode } = parseList(schema, parseParams(req.query, options.maxQueryLength), true);
      return streamBody(warehouse, metrics, schema, query, encode, representation);
    }
    const raw = `list|${schema.name}|?${req.query}`;
    return hit(req, ctx, raw) ?? listJson(req, schema, ctx, raw);
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

  return { list, one, stats };
}
