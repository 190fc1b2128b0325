/**
 * The probe for the highest sustained publish rate: ramp by `factor` until a step fails twice in a row,
 * then bisect until the bracket is within 10%. A step is sustained when nothing failed, the publisher
 * kept up, and what was in flight settled.
 */
import { KEEP_UP } from './constants.ts';
import { type Run, runPhase } from './context.ts';
import { round } from './op-stats.ts';
import type { FindMaxOptions, ProbeStep, WorkloadReport } from './types.ts';

export async function probe(
  run: Run,
  fm: FindMaxOptions,
): Promise<{ report: NonNullable<WorkloadReport['probe']>; soakRate: number }> {
  const steps: ProbeStep[] = [];
  let good = 0;
  let bad = Number.POSITIVE_INFINITY;
  let rate = fm.startRate;
  let repeat = false;
  while (steps.length < fm.maxSteps && !run.stop.signal.aborted) {
    const r = await runPhase(run, `probe ${rate}/s${repeat ? ' again' : ''}`, rate, fm.stepS);
    const p = r.w.publishSummary(r.unsent);
    const publishErrors = p.status429 + p.status5xx + p.transportErrors + p.failed;
    const consumerErrors = r.w.consumerErrors();
    const why =
      publishErrors > 0
        ? `${publishErrors} publish errors`
        : consumerErrors > 0
          ? `${consumerErrors} consumer errors`
          : r.unsent > (1 - KEEP_UP) * r.scheduled
            ? `${r.unsent} of ${r.scheduled} scheduled never sent (${run.options.inFlight} in flight)`
            : !r.drained
              ? 'in-flight messages did not settle'
              : null;
    const stepOps = Object.fromEntries(
      [...r.w.ops].map(([name, o]) => [name, o.summary(r.w.seconds())] as const),
    );
    steps.push({
      rate,
      unsent: r.unsent,
      repeat,
      scheduled: r.scheduled,
      ackedInStep: r.ackedInPhase,
      ackedPerS: round(r.ackedInPhase / fm.stepS, 2),
      publishErrors,
      consumerErrors,
      publishP99Ms: p.latency.p99Ms,
      consumerOpsPerS: round(Object.values(stepOps).reduce((a, o) => a + o.count, 0) / r.w.seconds(), 2),
      operations: stepOps,
      sustained: why === null,
      why,
    });
    run.log(`${r.w.name}: ${why === null ? 'sustained' : `not sustained (${why})`}`);
    // 500 is a bug whatever the load: it fails the run even in the probe.
    for (const [k, n] of [...r.w.publish.rejected, ...[...r.w.ops.values()].flatMap((o) => [...o.errors])])
      if (k.startsWith('500')) run.failures.push(`${r.w.name}: ${n} × ${k}`);
    if (why !== null && !repeat && steps.length < fm.maxSteps) {
      repeat = true;
      continue;
    }
    repeat = false;
    if (why === null) good = Math.max(good, rate);
    else bad = Math.min(bad, rate);
    const next =
      bad === Number.POSITIVE_INFINITY
        ? Math.round(rate * fm.factor)
        : good === 0
          ? Math.round(rate / 2)
          : Math.round((good + bad) / 2);
    if (next > fm.maxRate || next < 1 || (bad !== Number.POSITIVE_INFINITY && bad - good <= good * 0.1))
      break;
    rate = next;
  }
  const fraction = run.options.soakFraction ?? 0.7;
  const planned = fraction > 0 && good > 0 ? Math.max(1, Math.floor(good * fraction)) : null;
  if (good === 0) run.failures.push(`the probe found no sustained rate (first step ${fm.startRate}/s)`);
  return { report: { steps, maxRate: good, soakRate: planned }, soakRate: planned ?? 0 };
}
