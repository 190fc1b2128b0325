import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The Prometheus metrics ducto exposes at /metrics. Names and labels are a contract: the docs,
 * alert rules and dashboards refer to them.
 */
export function createMetrics(registry = new Registry(), options: { defaults?: boolean } = {}) {
  if (options.defaults !== false) collectDefaultMetrics({ register: registry, prefix: 'ducto_process_' });
  const registers = [registry];
  let freshnessProbe: FreshnessProbe | null = null;
  let probing: Promise<Record<string, number | null>> | null = null;
  /** One probe per scrape, shared by the metrics it feeds (the gauge and the read-error counter). */
  const probe = (): Promise<Record<string, number | null>> => {
    if (!freshnessProbe) return Promise.resolve({});
    probing ??= freshnessProbe().finally(() => {
      probing = null;
    });
    return probing;
  };
  return {
    registry,
    /**
     * Sets what computes `ducto_freshness_seconds` on each scrape (the API handler installs one
     * that asks the warehouse), so the gauge is current whenever /metrics is read.
     */
    setFreshnessProbe(probe: FreshnessProbe | null): void {
      freshnessProbe = probe;
    },
    replayMessages: new Counter({
      name: 'ducto_replay_messages_total',
      help: 'Messages `ducto replay` moved, by source (dead-letters, rejected) and outcome (republished, failed; stored, duplicate, rejected).',
      labelNames: ['dataset', 'source', 'outcome'] as const,
      registers,
    }),
    ingestMessages: new Counter({
      name: 'ducto_ingest_messages_total',
      help: 'Messages handled by ingest, by outcome (stored, duplicate, rejected, retried) and reject reason.',
      labelNames: ['dataset', 'outcome', 'reason'] as const,
      registers,
    }),
    ingestLatency: new Histogram({
      name: 'ducto_ingest_e2e_latency_seconds',
      help: 'Seconds from Pub/Sub publish time to the durable write of the event.',
      labelNames: ['dataset'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800],
      registers,
    }),
    batchSize: new Histogram({
      name: 'ducto_ingest_batch_size',
      help: 'Rows (valid and rejected) per warehouse write.',
      labelNames: ['dataset'] as const,
      buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000],
      registers,
    }),
    writeSeconds: new Histogram({
      name: 'ducto_warehouse_write_seconds',
      help: 'Seconds per warehouse batch write.',
      labelNames: ['dataset'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    writeRetries: new Counter({
      name: 'ducto_warehouse_write_retries_total',
      help: 'Warehouse writes tried again in process after a transient failure (before any message went back to Pub/Sub).',
      labelNames: ['dataset'] as const,
      registers,
    }),
    warehouseErrors: new Counter({
      name: 'ducto_warehouse_errors_total',
      help: 'Warehouse calls that failed, by kind (write, read).',
      labelNames: ['kind'] as const,
      registers,
      // A scrape's own freshness reads may fail: wait for them so the count includes them.
      async collect() {
        await probe();
      },
    }),
    apiRequests: new Counter({
      name: 'ducto_api_requests_total',
      help: 'API requests by route and HTTP status.',
      labelNames: ['route', 'status'] as const,
      registers,
    }),
    /**
     * The latency SLIs read it by `cache`: hit (the cached-latency SLO), miss or shared (read the
     * warehouse: the warehouse-latency SLO), none (no cache lookup answered it: errors, CSV/NDJSON
     * streams, ops routes). Its bounds, times 1000, are the bucket bounds of the cloud's
     * `api-request-latency` log-based metric (infra/modules/monitoring-spec): every latency SLO
     * threshold is one of them in both worlds (test/infra-monitoring.test.ts).
     */
    apiDuration: new Histogram({
      name: 'ducto_api_request_duration_seconds',
      help: 'API request duration in seconds, by route and cache result (hit, miss, shared; none when no cache lookup answered: errors, streams, ops routes).',
      labelNames: ['route', 'cache'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    cacheRequests: new Counter({
      name: 'ducto_cache_requests_total',
      help: 'API cache lookups: hit, miss, or shared (joined a query already in flight).',
      labelNames: ['result'] as const,
      registers,
    }),
    freshness: new Gauge({
      name: 'ducto_freshness_seconds',
      help: 'Age in seconds of the newest stored event (by ingest time), per dataset.',
      labelNames: ['dataset'] as const,
      registers,
      async collect() {
        for (const [dataset, age] of Object.entries(await probe())) {
          if (age === null) this.remove({ dataset });
          else this.set({ dataset }, age);
        }
      },
    }),
    writerDepth: new Gauge({
      name: 'ducto_ingest_pending_rows',
      help: 'Rows accepted by ingest and not yet written to the warehouse.',
      registers,
    }),
  };
}

/** Age in seconds of each dataset's newest stored event; null when none is known. */
export type FreshnessProbe = () => Promise<Record<string, number | null>>;

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * A metric's child for one set of label values, bound once and kept: prom-client hashes the label
 * values on every inc() and observe() otherwise, which a hot path feels.
 */
export function bound<T>(children: Map<string, T>, key: string, make: () => T): T {
  let child = children.get(key);
  if (child === undefined) {
    child = make();
    children.set(key, child);
  }
  return child;
}
