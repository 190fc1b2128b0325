import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';

export interface CachedResponse {
  status: number;
  body: Buffer;
  etag: string;
  headers: Record<string, string>;
}

export type CacheResult = 'hit' | 'miss' | 'shared';

export interface ResponseCacheOptions {
  ttlMs: number;
  maxEntries: number;
  maxBytes: number;
  onLookup?: (result: CacheResult) => void;
}

export function etagOf(body: Buffer): string {
  return `"${createHash('sha1').update(body).digest('base64url')}"`;
}

/**
 * Response cache of the API: a bounded LRU with a short TTL, plus one computation in flight per
 * key so that a burst of identical requests costs the warehouse one query (BigQuery bills at least
 * 10 MB and takes ~0.5–2 s per query, whatever the result size).
 */
export class ResponseCache {
  private readonly lru: LRUCache<string, CachedResponse> | null;
  private readonly inFlight = new Map<string, Promise<CachedResponse>>();

  constructor(private readonly options: ResponseCacheOptions) {
    this.lru =
      options.ttlMs > 0 && options.maxEntries > 0
        ? new LRUCache<string, CachedResponse>({
            max: options.maxEntries,
            maxSize: options.maxBytes,
            sizeCalculation: (v) => v.body.length + 256,
            ttl: options.ttlMs,
            // Serving stale data is the cache's job only within its TTL.
            allowStale: false,
          })
        : null;
  }

  async get(
    key: string,
    compute: () => Promise<CachedResponse>,
  ): Promise<{ response: CachedResponse; result: CacheResult }> {
    const cached = this.lru?.get(key);
    if (cached) return this.report(cached, 'hit');
    const running = this.inFlight.get(key);
    if (running) return this.report(await running, 'shared');
    const promise = compute();
    this.inFlight.set(key, promise);
    try {
      const response = await promise;
      // Errors are not cached: the next request tries the warehouse again.
      if (response.status === 200) this.lru?.set(key, response);
      return this.report(response, 'miss');
    } finally {
      this.inFlight.delete(key);
    }
  }

  clear(): void {
    this.lru?.clear();
  }

  private report(response: CachedResponse, result: CacheResult) {
    this.options.onLookup?.(result);
    return { response, result };
  }
}
