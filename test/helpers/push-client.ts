import { encodePushEnvelope } from '../../src/core/delivery.ts';
import { httpRequest } from '../../support/http.ts';

/** POSTs one push envelope to an ingest endpoint; resolves with the HTTP status (0 when the connection failed). */
export function push(
  endpoint: string,
  data: string | Uint8Array,
  messageId: string,
  attributes: Record<string, string>,
): Promise<number> {
  const body = encodePushEnvelope(data, messageId, attributes, 'projects/ducto-local/subscriptions/test');
  return httpRequest(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  }).then(
    (reply) => reply.status,
    () => 0,
  );
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
