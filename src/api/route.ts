import type { HttpRequest, HttpResponse } from '../http/types.ts';
import type { CacheResult } from './cache.ts';

export type RouteParams = Record<string, string | undefined>;

/** What a request learns on its way through: the route pattern, and the cache's answer. */
export interface RequestContext {
  route: string;
  cache: CacheResult | undefined;
}

export type Route = (
  req: HttpRequest,
  params: RouteParams,
  ctx: RequestContext,
) => Promise<HttpResponse> | HttpResponse;

export const JSON_TYPE = 'application/json; charset=utf-8';

/** A JSON answer that no cache keeps. */
export const json = (status: number, value: unknown, extra: Record<string, string> = {}): HttpResponse => ({
  status,
  headers: { 'content-type': JSON_TYPE, 'cache-control': 'no-store', ...extra },
  body: JSON.stringify(value),
});
