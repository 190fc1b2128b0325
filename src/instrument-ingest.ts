import type { Delivery } from './core/delivery.ts';
import { DuctoError } from './core/errors.ts';
import type { IngestResult } from './core/ingest.ts';
import { bound, type Metrics } from './metrics.ts';

/** The ingest of one delivery: what every edge (push, pull, functions) calls. */
export type IngestFn = (delivery: Delivery, datasetHint: string | null) => Promise<IngestResult>;

type Inc = { inc(value?: number): void };
type Observe = { observe(value: number): void };

/**
 * The ingest with its metrics: each delivery's outcome (`ducto_ingest_messages_total`) and, once
 * stored, its publish → stored latency; a delivery that fails is counted as `retried` (it goes back to
 * Pub/Sub) and the error passes on. Each rejected message (kept in `<dataset>_rejected`) is also
 * handed to `onRejected`, once: the app writes its `message rejected` log line there, which the
 * cloud's correctness SLI counts per message. Push, pull and the functions all run the ingest
 * through this, so they count alike. Label children are bound once per label set: a message costs
 * no label lookup.
 */
export function instrumentIngest(
  ingest: IngestFn,
  metrics: Metrics,
  onRejected?: (result: IngestResult) => void,
): IngestFn {
  const outcomes = new Map<string, Inc>();
  const latencies = new Map<string, Observe>();
  return async (delivery, hint) => {
    let result: IngestResult;
    try {
      result = await ingest(delivery, hint);
    } catch (error) {
      const dataset = hint ?? delivery.message.attributes.dataset ?? '';
      const reason = error instanceof DuctoError ? error.code : 'internal';
      metrics.ingestMessages.inc({ dataset, outcome: 'retried', reason });
      throw error;
    }
    const reason = result.code ?? '';
    bound(outcomes, `${result.dataset}|${result.outcome}|${reason}`, () =>
      metrics.ingestMessages.labels({ dataset: result.dataset, outcome: result.outcome, reason }),
    ).inc();
    if (result.outcome === 'rejected') onRejected?.(result);
    else if (result.outcome === 'stored' && result.publishTime !== null) {
      bound(latencies, result.dataset, () =>
        metrics.ingestLatency.labels({ dataset: result.dataset }),
      ).observe(Math.max(0, Date.now() * 1000 - result.publishTime) / 1e6);
    }
    return result;
  };
}
