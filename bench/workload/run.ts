/**
 * One workload run: the stack and its clients (context.ts), consumers reading throughout
 * (consumers.ts), an optional probe for the highest sustained rate (probe.ts), the soak (soak.ts), the
 * exactly-once check (verify.ts), and the report.
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { VERSION } from '../../src/version.ts';
import { type Consumers, startConsumers } from './consumers.ts';
import { openRun, type Run } from './context.ts';
import { assertLoopback } from './http.ts';
import { probe } from './probe.ts';
import { memoryTrend } from './server.ts';
import { soak } from './soak.ts';
import type { PhaseReport, WorkloadOptions, WorkloadReport } from './types.ts';
import { baselineCount, verify } from './verify.ts';

export function validate(o: WorkloadOptions): void {
  const positive = (name: string, n: number) => {
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, not ${n}`);
  };
  positive('duration', o.durationS);
  positive('rate', o.rate);
  positive('consumers', o.consumers);
  positive('in-flight', o.inFlight);
  if (o.findMax) {
    positive('start-rate', o.findMax.startRate);
    positive('step', o.findMax.stepS);
    positive('max-rate', o.findMax.maxRate);
    if (!(o.findMax.factor > 1)) throw new Error(`the ramp factor must be > 1, not ${o.findMax.factor}`);
  }
  const f = o.soakFraction ?? 0.7;
  if (!(f >= 0 && f <= 1)) throw new Error(`soak-fraction must be from 0 to 1, not ${f}`);
  if ((o.apiUrl === undefined) !== (o.ingestUrl === undefined))
    throw new Error('--url and --ingest-url go together (or neither, to start a stack)');
  if (o.apiUrl !== undefined) assertLoopback(o.apiUrl, '--url');
  if (o.ingestUrl !== undefined) assertLoopback(o.ingestUrl, '--ingest-url');
}

/** Runs the workload and returns its report; `report.ok` is false with `failures` saying why. */
export async function runWorkload(options: WorkloadOptions): Promise<WorkloadReport> {
  validate(options);
  const startedAt = new Date();
  const loadStart = loadavg();
  const run = await openRun(options);
  let probed: WorkloadReport['probe'] = null;
  let soaked: PhaseReport | null = null;
  let exactlyOnce: WorkloadReport['exactlyOnce'] = null;
  let consumers: Consumers | null = null;
  try {
    const baseline = await baselineCount(run);
    consumers = startConsumers(run);
    let soakRate = options.rate;
    if (options.findMax) {
      const found = await probe(run, options.findMax);
      probed = found.report;
      soakRate = found.soakRate;
    }
    if (soakRate > 0 && !run.stop.signal.aborted) soaked = await soak(run, soakRate, consumers);
    await consumers.stop();
    exactlyOnce = await verify(run, baseline);
  } catch (e) {
    run.failures.push(`run aborted: ${(e as Error).message}`);
  } finally {
    run.stop.abort();
    run.publisher.stop();
    run.close();
    run.bar?.stop();
    await consumers?.stop();
    const died = run.stack.died();
    if (died) run.failures.unshift(`the stack died: ${died}`);
    run.apiAgent.destroy();
    run.ingestAgent.destroy();
    await run.stack.stop();
  }
  if (options.signal?.aborted) run.failures.push('interrupted');
  return report(run, { startedAt, loadStart, probe: probed, soak: soaked, exactlyOnce });
}

function report(
  run: Run,
  r: Pick<WorkloadReport, 'probe' | 'soak' | 'exactlyOnce'> & { startedAt: Date; loadStart: number[] },
): WorkloadReport {
  const { options, stack, samples, failures, operations } = run;
  const rssSoak = samples
    .filter((s) => s[1] === 'soak' && s[2] !== null)
    .map((s) => ({ t: s[0], mb: s[2] as number }));
  if (stack.pid !== null && r.soak && rssSoak.length === 0) failures.push('no RSS sample of the server');
  const { operations: _ops, log: _log, signal: _signal, progress: _progress, ...plain } = options;
  return {
    version: VERSION,
    startedAt: r.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: {
      cpus: availableParallelism(),
      model: cpus()[0]?.model ?? null,
      node: process.versions.node,
      loadavgStart: r.loadStart.map((x) => Math.round(x * 100) / 100),
      loadavgEnd: loadavg().map((x) => Math.round(x * 100) / 100),
    },
    target: {
      ownStack: stack.own,
      apiUrl: stack.apiUrl.origin,
      ingestUrl: stack.ingestUrl.origin,
      sampledPid: stack.own ? null : stack.pid,
    },
    options: { ...plain, operations: operations.map((o) => `${o.name}:${o.weight}`) },
    env: Object.fromEntries(
      Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('DUCTO_')),
    ),
    probe: r.probe,
    soak: r.soak,
    exactlyOnce: r.exactlyOnce,
    memory: memoryTrend(rssSoak),
    samples: samples.map(([t, phase, rss, sc, cc]) => [
      t,
      phase,
      rss === null ? null : Math.round(rss * 10) / 10,
      sc === null ? null : Math.round(sc * 100) / 100,
      Math.round(cc * 100) / 100,
    ]),
    failures,
    ok: failures.length === 0,
  };
}
