import type { DatasetSchema } from '../core/dataset-schema.ts';
import type { Warehouse } from '../core/warehouse.ts';
import type { Metrics } from '../metrics.ts';

const withTimeout = <T>(promise: Promise<T>, ms: number): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
};

/**
 * `ducto_freshness_seconds`, computed when /metrics is scraped: each dataset's age since its newest
 * ingested row. The last known ingest time is kept, so a warehouse that stops answering shows a
 * growing age (and a read error), not a gap.
 */
export function installFreshnessProbe(
  schemas: ReadonlyMap<string, DatasetSchema>,
  warehouse: Warehouse,
  metrics: Metrics,
  timeoutMs: number,
): void {
  const newestIngested = new Map<string, number>();
  metrics.setFreshnessProbe(async () => {
    await Promise.all(
      [...schemas.values()].map(async (schema) => {
        try {
          const f = await withTimeout(warehouse.freshness(schema), timeoutMs);
          if (f.newestIngestedAt === null) newestIngested.delete(schema.name);
          else newestIngested.set(schema.name, f.newestIngestedAt);
        } catch {
          metrics.warehouseErrors.inc({ kind: 'read' });
        }
      }),
    );
    const now = Date.now() * 1000;
    const ages: Record<string, number | null> = {};
    for (const name of schemas.keys()) {
      const t = newestIngested.get(name);
      ages[name] = t === undefined ? null : Math.max(0, (now - t) / 1e6);
    }
    return ages;
  });
}
