import type { DatasetSchema } from '../core/dataset-schema.ts';
import { microsToIso } from '../core/time.ts';
import type { Warehouse } from '../core/warehouse.ts';

export interface Readiness {
  ready: boolean;
  warehouse: string;
  error?: string;
  datasets: Record<
    string,
    { newest_event_time: string | null; newest_ingested_at: string | null; age_seconds: number | null }
  >;
}

/** Ready when the warehouse answers; the body reports each dataset's freshness for operators. */
export async function readiness(
  warehouse: Warehouse,
  schemas: ReadonlyMap<string, DatasetSchema>,
): Promise<Readiness> {
  const out: Readiness = { ready: true, warehouse: warehouse.kind, datasets: {} };
  try {
    await warehouse.ping();
    const now = Date.now() * 1000;
    for (const schema of schemas.values()) {
      const f = await warehouse.freshness(schema);
      out.datasets[schema.name] = {
        newest_event_time: f.newestEventTime === null ? null : microsToIso(f.newestEventTime),
        newest_ingested_at: f.newestIngestedAt === null ? null : microsToIso(f.newestIngestedAt),
        age_seconds: f.newestIngestedAt === null ? null : Math.max(0, (now - f.newestIngestedAt) / 1e6),
      };
    }
  } catch {
    out.ready = false;
    out.error = 'the warehouse is not reachable';
  }
  return out;
}
