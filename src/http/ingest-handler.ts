import { decodeDelivery } from '../core/delivery.ts';
import { DuctoError } from '../core/errors.ts';
import type { IngestFn } from '../instrument-ingest.ts';
import { problem } from './problem.ts';
import { type Handler, type HttpResponse, header } from './types.ts';

const ACK: HttpResponse = { status: 204, headers: {}, body: null };

/**
 * The push endpoint: `POST /` with a Pub/Sub push envelope or a CloudEvent. 2xx acknowledges (the
 * event or its rejected row is durably written); 429/503 leave the message to Pub/Sub's retry.
 * `ingest` is the instrumented one (src/instrument-ingest.ts): it counts every outcome.
 */
export function createIngestHandler(ingest: IngestFn): Handler {
  return async (req) => {
    if (req.path !== '/' && req.path !== '')
      throw new DuctoError('not_found', `no route ${req.path.slice(0, 100)}`);
    if (req.method !== 'POST') {
      const r = problem(new DuctoError('method_not_allowed', 'the ingest endpoint takes POST'));
      r.headers.allow = 'POST';
      return r;
    }
    const type = header(req, 'content-type') ?? 'application/json';
    if (!/^application\/(?:json|cloudevents\+json)\b/i.test(type)) {
      throw new DuctoError(
        'unsupported_media_type',
        'send application/json (a push envelope) or a CloudEvent',
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(req.body?.toString('utf8') ?? '');
    } catch {
      throw new DuctoError('bad_envelope', 'the body is not JSON');
    }
    const delivery = decodeDelivery(body, req.headers);
    const hint = req.query === '' ? null : new URLSearchParams(req.query).get('dataset');
    await ingest(delivery, hint);
    return ACK;
  };
}
