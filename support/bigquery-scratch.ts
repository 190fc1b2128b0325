import { randomBytes } from 'node:crypto';
import type { BigQuery } from '@google-cloud/bigquery';

/** Label on every scratch dataset, so a sweep finds leftovers of runs that died before cleaning up. */
export const SCRATCH_LABEL = 'ducto-scratch';

/**
 * A dataset name for one test run: a prefix saying what made it, a short random id so parallel runs
 * never collide, and the creation time (ms) so a sweep can drop leftovers older than an hour.
 */
export function scratchDatasetName(prefix: string, now = Date.now()): string {
  return `${prefix}_${randomBytes(3).toString('hex')}_${now}`;
}

export interface ScratchDataset {
  name: string;
  /** Deletes the dataset and every table in it; safe to call twice. */
  drop(): Promise<void>;
}

export async function createScratchDataset(
  bigquery: BigQuery,
  prefix: string,
  location: string | undefined,
): Promise<ScratchDataset> {
  const name = scratchDatasetName(prefix);
  await bigquery.createDataset(name, {
    ...(location ? { location } : {}),
    labels: { [SCRATCH_LABEL]: prefix.toLowerCase() },
    // Should the drop never run, BigQuery deletes the tables a day later anyway.
    defaultTableExpirationMs: String(24 * 3_600_000),
  });
  let dropped = false;
  return {
    name,
    async drop() {
      if (dropped) return;
      dropped = true;
      await bigquery.dataset(name).delete({ force: true });
    },
  };
}
