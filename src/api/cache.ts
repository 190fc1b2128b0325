import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';

/** What a route computes on a miss: a JSON response, before the cache adds its own headers. */
export interface ComputedResponse {
  status: number;
  body: Buffer;
  headers: Record<string, string>;
}

/**
 * A cached response, ready to send: its headers (ETag, Cache-Control and Content-Length included)
 * and those of its 304 are built once, when it is stored, and shared by every hit. Nobody may
 * mutate them.
 */
export interface CachedResponse {
  status: number;
  body: Buffer;
  etag: string;
  headers: Readonly<Record<string, string>>;
  notModifiedHeaders: Readonly<Record<string, string>>;
}

export type CacheResult = 'hit' | 'miss' | 'shared';

export interface ResponseCacheOptions {
  ttlMs: number;
  maxEntries: number;
  maxBytes: number;
  /** Cache-Control of every cached response. */
  cacheControl: string;
  onLookup?: (result: CacheResult) => void;
}

function etagOf(body: Buffer): string {
  return `"${createHash('sha1').update(body).digest('base64url')}"`;
}

/**
 * Response cache of the API: a bounded LRU with a short TTL, plus one computation in flight per
 * key so that a burst of identical requests costs the warehouse one query (BigQuery bills at least
 * 10 MB and takes ~0.5–2 s per query, whatever the result size).
 *
 * A hit is answered synchronously ({@link lookup}), and an entry may be stored under a second key
 * ({@link alias}): the API looks a request up by its raw query string first, so a repeated request
 * is answered without parsing its parameters (a cached entry exists only for valid ones).
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

  /** The fresh entry under `key`, reported as a hit; undefined (and nothing reported) otherwise. */
  lookup(key: string): CachedResponse | undefined {
    const cached = this.lru?.get(key);
    if (cached) this.options.onLookup?.('hit');
    return cached;
  }

  async get(
    key: string,
    compute: () => Promise<ComputedResponse>,
  ): Promise<{ response: CachedResponse; result: CacheResult }> {
    const cached = this.lookup(key);
    if (cached) return { response: cached, result: 'hit' };
    const running = this.inFlight.get(key);
    if (running) return this.report(await running, 'shared');
    const promise = compute().then((r) => this.prepare(r));
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

  /** Stores the entry under `key` too, for what remains of its time to live under `target`. */
  alias(key: string, target: string, response: CachedResponse): void {
    if (!this.lru || key === target) return;
    const ttl = this.lru.getRemainingTTL(target);
    if (ttl > 0 && this.lru.get(target) === response) this.lru.set(key, response, { ttl });
  }

  clear(): void {
    this.lru?.clear();
  }

  private prepare(r: ComputedResponse): CachedResponse {
    const etag = etagOf(r.body);
    const cacheHeaders = { etag, 'cache-control': this.options.cacheControl };
    return {
      status: r.status,
      body: r.body,
      etag,
      headers: Object.freeze({ ...r.headers, ...cacheHeaders, 'content-length': String(r.body.length) }),
      notModifiedHeaders: Object.freeze({ ...r.headers, ...cacheHeaders }),
    };
  }

  private report(response: CachedResponse, result: CacheResult) {
    this.options.onLookup?.(result);
    return { response, result };
  }
}
