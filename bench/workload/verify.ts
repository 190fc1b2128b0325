/**
 * The end of a run: every message acknowledged is stored exactly once. The count of rows the API holds
 * grew by exactly the number of acknowledgements, measured against the count before the run began.
 */
import { DRAIN_MS } from './constants.ts';
import type { Run } from './context.ts';
import { storedCount } from './server.ts';
import type { WorkloadReport } from './types.ts';

/** The count before anything is published. */
export const baselineCount = (run: Run): Promise<number> => storedCount(run.apiAgent, run.stack.apiUrl);

/** Waits for what is in flight, then compares rows stored with messages acknowledged. */
export async function verify(run: Run, baseline: number): Promise<WorkloadReport['exactlyOnce']> {
  if (!(await run.publisher.drain(DRAIN_MS)))
    run.failures.push('publish: messages still in flight at the end');
  if (run.stack.died()) return null;
  const stored = (await storedCount(run.apiAgent, run.stack.apiUrl)) - baseline;
  const acked = run.publisher.ackedTotal;
  if (stored !== acked)
    run.failures.push(`exactly once: ${stored} rows stored for ${acked} messages acknowledged`);
  return { baseline, stored, acked, equal: stored === acked };
}
