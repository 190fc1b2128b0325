/**
 * The one HTTP client of tests and benchmarks: node:http on the caller's keep-alive agent, the body kept
 * as bytes. Not fetch: at 1,000 POSTs/s, fetch (undici) in a load generator showed a median of over a
 * second per request against the same server that node:http answers in ~6 ms, which would have
 * measured the client, not ducto.
 */
import { Agent, type IncomingHttpHeaders, request } from 'node:http';

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A request that got no response: `timeout` or `transport <errno>`. */
export class TransportError extends Error {
  constructor(readonly key: string) {
    super(key);
  }
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Socket idle time after which the request fails with `timeout`; 0 (the default) waits. */
  timeoutMs?: number;
}

const shared = new Agent({ keepAlive: true, maxSockets: 64 });

export function httpRequest(
  url: string | URL,
  options: RequestOptions = {},
  agent: Agent = shared,
): Promise<Reply> {
  return new Promise<Reply>((resolve, reject) => {
    const headers = { ...options.headers };
    if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
    const transport = (e: NodeJS.ErrnoException) =>
      reject(e instanceof TransportError ? e : new TransportError(`transport ${e.code ?? e.message}`));
    const req = request(
      url,
      { method: options.method ?? 'GET', agent, headers, timeout: options.timeoutMs || undefined },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', transport);
      },
    );
    req.on('timeout', () => req.destroy(new TransportError('timeout')));
    req.on('error', transport);
    req.end(options.body);
  });
}

/** The body as UTF-8 text. */
export const textOf = (reply: Reply): string => reply.body.toString('utf8');
