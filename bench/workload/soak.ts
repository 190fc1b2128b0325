/**
 * The soak: publishing at one rate for the run's duration while the consumers read, then stopping the
 * consumers so the window closes on what both sides did. Its failures: any error, an operation that
 * never ran, a publisher that fell behind, messages left in flight.
 */

import { KEEP_UP } from './constants.ts';
import type { Consumers } from './consumers.ts';
import { type Run, runPhase } from './context.ts';
import { OpStats, round } from './op-stats.ts';
import type { PhaseReport } from './types.ts';

export async function soak(run: Run, rate: number, consumers: Consumers): Promise<PhaseReport> {
  const r = await runPhase(run, 'soak', rate, run.options.durationS);
  await consumers.stop();
  r.w.ended = performance.now();
  const publish = r.w.publishSummary(r.unsent);
  const ops = Object.fromEntries(
    run.operations.map((o) => [o.name, (r.w.ops.get(o.name) ?? new OpStats()).summary(r.w.seconds())]),
  );
  const soakSamples = run.samples.filter((s) => s[1] === 'soak');
  const cores = (i: 3 | 4) => {
    const v = soakSamples.map((s) => s[i]).filter((x): x is number => x !== null);
    return v.length === 0 ? null : round(v.reduce((a, b) => a + b, 0) / v.length, 3);
  };
  const errors =
    Object.values(ops).reduce((a, o) => a + o.errors, 0) +
    publish.status429 +
    publish.status5xx +
    publish.transportErrors +
    publish.failed;
  const report: PhaseReport = {
    name: r.w.name,
    targetRate: rate,
    durationS: round(r.w.seconds(), 2),
    publish,
    operations: ops,
    errors,
    keptUp: r.unsent <= (1 - KEEP_UP) * r.scheduled && publish.acked === publish.sent,
    serverCores: cores(3),
    clientCores: cores(4) ?? 0,
  };
  const { failures } = run;
  for (const [name, o] of Object.entries(ops)) {
    if (o.errors > 0) failures.push(`${name}: ${o.errors} errors ${JSON.stringify(o.errorsBy)}`);
    if (o.count === 0) failures.push(`${name}: never ran`);
  }
  const pubErrors = { ...publish.rejectedBy, ...publish.transportBy };
  if (Object.keys(pubErrors).length > 0) failures.push(`publish: errors ${JSON.stringify(pubErrors)}`);
  if (publish.failed > 0) failures.push(`publish: ${publish.failed} messages never acknowledged`);
  if (!report.keptUp)
    failures.push(
      `publish: acks did not keep up at ${rate}/s (${r.scheduled} scheduled, ${publish.sent} sent, ${publish.acked} acknowledged)`,
    );
  if (!r.drained) failures.push('publish: messages still in flight 30 s after the end');
  return report;
}
