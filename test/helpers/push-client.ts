import { Agent, request } from 'node:http';
import { encodePushEnvelope } from '../../src/core/delivery.ts';

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** POSTs one push envelope to an ingest endpoint; resolves with the HTTP status (0 when the connection failed). */
export function push(
  endpoint: string,
  data: string | Uint8Array,
  messageId: string,
  attributes: Record<string, string>,
): Promise<number> {
  const body = encodePushEnvelope(data, messageId, attributes, 'projects/ducto-local/subscriptions/test');
  const url = new URL(endpoint);
  return new Promise((resolve) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

/** Runs `fn` over `items` with at most `concurrency` in flight. */
export async function pool<T>(
  items: T[],
  concurrency: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}
