import type { Delivery } from '../core/delivery.ts';
import { decodeDelivery } from '../core/delivery.ts';
import { DuctoError } from '../core/errors.ts';
import type { IngestResult } from '../core/ingest.ts';
import { bound, type Metrics } from '../metrics.ts';
import { problem } from './problem.ts';
import { type Handler, type HttpResponse, header } from './types.ts';

export type IngestFn = (delivery: Delivery, datasetHint: string | null) => Promise<IngestResult>;

type Inc = { inc(value?: number): void };
type Observe = { observe(value: number): void };
const outcomeCounters = new WeakMap<Metrics, Map<string, Inc>>();
const latencyHistograms = new WeakMap<Metrics, Map<string, Observe>>();

/** The children bound for one registry's metrics (tests make several apps in one process). */
function childrenOf<T>(all: WeakMap<Metrics, Map<string, T>>, metrics: Metrics): Map<string, T> {
  let children = all.get(metrics);
  if (!children) {
    children = new Map();
    all.set(metrics, children);
  }
  return children;
}

/** Counts a message's outcome; shared by the node:http edge and the functions-framework edge. */
export function recordOutcome(metrics: Metrics, result: IngestResult, nowMicros: number): void {
  const reason = result.code ?? '';
  bound(childrenOf(outcomeCounters, metrics), `${result.dataset}|${result.outcome}|${reason}`, () =>
    metrics.ingestMessages.labels({ dataset: result.dataset, outcome: result.outcome, reason }),
  ).inc();
  if (result.outcome === 'stored' && result.publishTime !== null) {
    bound(childrenOf(latencyHistograms, metrics), result.dataset, () =>
      metrics.ingestLatency.labels({ dataset: result.dataset }),
    ).observe(Math.max(0, nowMicros - result.publishTime) / 1e6);
  }
}

export function recordRetry(metrics: Metrics, dataset: string | null, error: unknown): void {
  const reason = error instanceof DuctoError ? error.code : 'internal';
  metrics.ingestMessages.inc({ dataset: dataset ?? '', outcome: 'retried', reason });
}

const ACK: HttpResponse = { status: 204, headers: {}, body: null };

/**
 * The push endpoint: `POST /` with a Pub/Sub push envelope or a CloudEvent. 2xx acknowledges (the
 * event or its rejected row is durably written); 429/503 leave the message to Pub/Sub's retry.
 */
export function createIngestHandler(ingest: IngestFn, metrics: Metrics): Handler {
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
    try {
      const result = await ingest(delivery, hint);
      recordOutcome(metrics, result, Date.now() * 1000);
      return ACK;
    } catch (error) {
      recordRetry(metrics, hint ?? delivery.message.attributes.dataset ?? null, error);
      throw error;
    }
  };
}
