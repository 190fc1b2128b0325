/**
 * A typed client of the ducto API: openapi-fetch over the types openapi-typescript generated from the
 * API's own OpenAPI document (schema.ts), with what every consumer would otherwise write again: an
 * iterator over all pages (following next_cursor), NDJSON streaming, problem+json errors as a typed
 * exception, and retries of 429 and 503 after their Retry-After.
 *
 *   const ducto = createDuctoClient({ baseUrl: 'https://gateway.example', apiKey: process.env.DUCTO_API_KEY });
 *   for await (const flight of ducto.events('flights', { origin: 'LAX', 'delay.gte': 30 })) console.log(flight);
 */
import createClient from 'openapi-fetch';
import type { components, paths } from './schema.ts';

/** The datasets the API serves, from the generated paths (`/v1/<dataset>`). */
export type Dataset = {
  [P in keyof paths]: P extends `/v1/${infer D}` ? (D extends `${string}/${string}` ? never : D) : never;
}[keyof paths];

type Get<P extends keyof paths> = paths[P] extends { get: infer O } ? O : never;
type QueryOf<O> = O extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;

/** The filters, projection, order, limit and cursor of a dataset's list, typed per dataset. */
export type ListQuery<D extends Dataset> = QueryOf<Get<`/v1/${D}`>>;
/** The filters, grouping and bucket of a dataset's stats. */
export type StatsQuery<D extends Dataset> = QueryOf<Get<`/v1/${D}/stats`>>;
/** One event of a dataset, as the API returns it. */
export type EventOf<D extends Dataset> = `${D}_record` extends keyof components['schemas']
  ? components['schemas'][`${D}_record`]
  : never;
/** One group of a dataset's stats. */
export type StatsRowOf<D extends Dataset> = `${D}_stats_row` extends keyof components['schemas']
  ? components['schemas'][`${D}_stats_row`]
  : never;

export type Problem = components['schemas']['problem'];

/** An error the API answered (application/problem+json), or one the gateway answered before it. */
export class DuctoProblem extends Error {
  readonly status: number;
  /** The stable code of docs/errors.md; `gateway_<status>` for a gateway answer without one. */
  readonly code: string;
  readonly title: string;
  readonly detail: string | undefined;
  /** The query parameter at fault, when there is one. */
  readonly parameter: string | undefined;

  constructor(status: number, body: unknown) {
    const p = (typeof body === 'object' && body !== null ? body : {}) as Partial<Problem>;
    const code = typeof p.code === 'string' ? p.code : `gateway_${status}`;
    const title = typeof p.title === 'string' ? p.title : typeof body === 'string' ? body.slice(0, 200) : '';
    super(`${status} ${code}${p.detail ? `: ${p.detail}` : title ? `: ${title}` : ''}`);
    this.name = 'DuctoProblem';
    this.status = status;
    this.code = code;
    this.title = title;
    this.detail = p.detail;
    this.parameter = p.parameter;
  }
}

export interface DuctoClientOptions {
  /** Where the API is reached: the gateway's URL, or http://127.0.0.1:8080 locally. */
  baseUrl: string;
  /** Sent as x-api-key (the gateway requires it; the local stack ignores it). */
  apiKey?: string;
  /** Retries of a 429 or 503 answer, each after its Retry-After. Default 3. */
  retries?: number;
  /** The longest wait before a retry, whatever Retry-After says. Default 30 s. */
  maxRetryDelayMs?: number;
  fetch?: (input: Request) => Promise<Response>;
}

const RETRYABLE = new Set([429, 503]);

/** Seconds or an HTTP date, in ms from now; 1 s when absent or unreadable. */
function retryAfterMs(header: string | null): number {
  if (header === null) return 1_000;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1_000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? 1_000 : Math.max(0, at - Date.now());
}

function retrying(o: DuctoClientOptions): (input: Request) => Promise<Response> {
  const base = o.fetch ?? ((input: Request) => fetch(input));
  const retries = o.retries ?? 3;
  const cap = o.maxRetryDelayMs ?? 30_000;
  return async (input) => {
    for (let attempt = 0; ; attempt++) {
      const response = await base(input.clone());
      if (!RETRYABLE.has(response.status) || attempt >= retries) return response;
      await response.body?.cancel();
      await new Promise((r) =>
        setTimeout(r, Math.min(cap, retryAfterMs(response.headers.get('retry-after')))),
      );
    }
  };
}

/** Lines of an NDJSON body, parsed, as they arrive. */
async function* ndjson<T>(body: ReadableStream<Uint8Array>): AsyncGenerator<T> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline = buffer.indexOf('\n');
    while (newline >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (line !== '') yield JSON.parse(line) as T;
      newline = buffer.indexOf('\n');
    }
  }
  buffer += decoder.decode();
  if (buffer.trim() !== '') yield JSON.parse(buffer) as T;
}

export function createDuctoClient(options: DuctoClientOptions) {
  const client = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    fetch: retrying(options),
    headers: options.apiKey ? { 'x-api-key': options.apiKey } : {},
  });
  // openapi-fetch types each literal path; the dataset makes the path a template, typed by the methods.
  const get = client.GET as unknown as (
    path: string,
    init: Record<string, unknown>,
  ) => Promise<{ data?: unknown; error?: unknown; response: Response }>;

  async function call<T>(path: string, init: Record<string, unknown>): Promise<T> {
    const { data, error, response } = await get(path, init);
    if (!response.ok) throw new DuctoProblem(response.status, error);
    return data as T;
  }

  return {
    /** The underlying openapi-fetch client, for anything this one does not wrap. */
    raw: client,

    /** One page: `data` and the `next_cursor` of the next one (null on the last). */
    list<D extends Dataset>(dataset: D, query?: ListQuery<D>) {
      return call<{ data: EventOf<D>[]; next_cursor: string | null }>(`/v1/${dataset}`, {
        params: { query: query ?? {} },
      });
    },

    /** Every event of the query, page after page, following next_cursor. */
    async *events<D extends Dataset>(dataset: D, query?: ListQuery<D>): AsyncGenerator<EventOf<D>> {
      let cursor: string | null = null;
      do {
        const q = { ...(query ?? {}), ...(cursor === null ? {} : { cursor }) } as ListQuery<D>;
        const page: { data: EventOf<D>[]; next_cursor: string | null } = await this.list(dataset, q);
        yield* page.data;
        cursor = page.next_cursor;
      } while (cursor !== null);
    },

    /** The whole result of the query as one NDJSON stream, parsed as it arrives. */
    async *stream<D extends Dataset>(dataset: D, query?: Omit<ListQuery<D>, 'cursor' | 'limit'>) {
      const { response, error } = await get(`/v1/${dataset}`, {
        params: { query: query ?? {} },
        headers: { accept: 'application/x-ndjson' },
        parseAs: 'stream',
      });
      if (!response.ok || !response.body) throw new DuctoProblem(response.status, error);
      yield* ndjson<EventOf<D>>(response.body);
    },

    /** One event by id; null when there is none. */
    async get<D extends Dataset>(dataset: D, eventId: string): Promise<EventOf<D> | null> {
      try {
        const { data } = await call<{ data: EventOf<D> }>(`/v1/${dataset}/{event_id}`, {
          params: { path: { event_id: eventId } },
        });
        return data;
      } catch (e) {
        if (e instanceof DuctoProblem && e.status === 404 && e.code === 'not_found') return null;
        throw e;
      }
    },

    /** Counts and aggregates of each measure, per group. */
    async stats<D extends Dataset>(dataset: D, query?: StatsQuery<D>): Promise<StatsRowOf<D>[]> {
      const { data } = await call<{ data: StatsRowOf<D>[] }>(`/v1/${dataset}/stats`, {
        params: { query: query ?? {} },
      });
      return data;
    },
  };
}

export type DuctoClient = ReturnType<typeof createDuctoClient>;
