/** One workload run: optional probe for the highest sustained rate, the soak, the drain, the checks. */

import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { SingleBar } from 'cli-progress';
import { VERSION } from '../../src/version.ts';
import { httpRequest, TransportError } from '../../support/http.ts';
import { rssMb } from '../../support/proc.ts';
import { DRAIN_MS, KEEP_UP, REQUEST_TIMEOUT_MS } from './constants.ts';
import { flightTime, loadFlights, Published } from './flights.ts';
import { assertLoopback, OpError } from './http.ts';
import { OpStats, round, Window } from './op-stats.ts';
import { DEFAULT_OPERATIONS, type OpContext } from './operations.ts';
import { envelopeTemplates, Publisher } from './publisher.ts';
import { externalStack, memoryTrend, serverCpu, startWorkloadServer, storedCount } from './server.ts';
import type { PhaseReport, ProbeStep, WorkloadOptions, WorkloadReport } from './types.ts';

// ---------------------------------------------------------------------------------------------
// The run

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
  const log = options.log ?? (() => {});
  const operations = options.operations ?? [...DEFAULT_OPERATIONS];
  const startedAt = new Date();
  const loadStart = loadavg();
  const failures: string[] = [];
  const stack =
    options.apiUrl !== undefined && options.ingestUrl !== undefined
      ? externalStack(options.apiUrl, options.ingestUrl, options.pid)
      : await startWorkloadServer();
  const apiAgent = new http.Agent({ keepAlive: true, maxSockets: options.consumers + 2 });
  const ingestAgent = new http.Agent({ keepAlive: true, maxSockets: options.inFlight });
  const flights = loadFlights();
  const times = flights.map((f) => flightTime(f.date));
  const timeRange = { min: Math.min(...times), max: Math.max(...times) };
  const published = new Published();
  const runId = `load-${randomBytes(4).toString('hex')}`;
  let window = new Window('start');
  const publisher = new Publisher(
    stack.ingestUrl,
    ingestAgent,
    envelopeTemplates(flights),
    runId,
    options.inFlight,
    published,
    window,
  );
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal?.addEventListener('abort', onAbort);

  const samples: WorkloadReport['samples'] = [];
  const t0 = performance.now();
  let lastCpu = { at: t0, server: serverCpu(stack.pid), client: process.cpuUsage() };
  const sampler = setInterval(() => {
    const now = performance.now();
    const server = serverCpu(stack.pid);
    const client = process.cpuUsage();
    const dt = (now - lastCpu.at) / 1000;
    samples.push([
      Math.round((now - t0) / 100) / 10,
      window.name,
      stack.pid === null ? null : rssMb(stack.pid),
      server === null || lastCpu.server === null ? null : (server - lastCpu.server) / dt,
      (client.user - lastCpu.client.user + client.system - lastCpu.client.system) / 1e6 / dt,
    ]);
    lastCpu = { at: now, server, client };
    if (stack.died()) stop.abort();
  }, 1000);

  const bar = options.progress
    ? new SingleBar({
        stream: process.stderr,
        format:
          '{phase} [{bar}] {value}/{total} s | publish {pub}/s | ops {ops}/s | errors {errors} | RSS {rss} MB',
        hideCursor: true,
      })
    : undefined;

  /** Waits out a phase (or until aborted), updating the bar or writing a status line every 30 s. */
  const runFor = async (seconds: number, w: Window) => {
    const end = performance.now() + seconds * 1000;
    bar?.start(Math.round(seconds), 0, { phase: w.name, pub: 0, ops: 0, errors: 0, rss: '-' });
    let lastLog = performance.now();
    while (!stop.signal.aborted && performance.now() < end) {
      await sleep(Math.min(1000, end - performance.now()));
      const s = w.seconds();
      const ops = [...w.ops.values()].reduce((a, o) => a + o.count, 0);
      const errors = w.consumerErrors() + [...w.publish.latency.errors.values()].reduce((a, b) => a + b, 0);
      const rss = samples.at(-1)?.[2];
      const values = {
        phase: w.name,
        pub: Math.round(w.publish.acked / s),
        ops: Math.round(ops / s),
        errors,
        rss: rss == null ? '-' : rss.toFixed(0),
      };
      bar?.update(Math.min(Math.round(s), Math.round(seconds)), values);
      if (!bar && performance.now() - lastLog >= 30_000) {
        lastLog = performance.now();
        log(
          `${w.name}: ${Math.round(s)}/${Math.round(seconds)} s, publish ${values.pub}/s acked, ` +
            `ops ${values.ops}/s, errors ${errors}, RSS ${values.rss} MB`,
        );
      }
    }
    bar?.stop();
  };

  let probe: WorkloadReport['probe'] = null;
  let soak: PhaseReport | null = null;
  let baseline: number | null = null;
  let exactlyOnce: WorkloadReport['exactlyOnce'] = null;
  const consumerLoops: Array<Promise<void>> = [];
  let consumersStop = false;
  try {
    baseline = await storedCount(apiAgent, stack.apiUrl);

    // Consumers run through the whole run; each records into the window current when it finishes.
    const total = operations.reduce((a, o) => a + o.weight, 0);
    const pick = () => {
      let r = Math.random() * total;
      for (const o of operations) {
        r -= o.weight;
        if (r < 0) return o;
      }
      return operations[operations.length - 1]!;
    };
    for (let c = 0; c < options.consumers; c++) {
      const ctx: OpContext = {
        get: (path, headers = {}) =>
          httpRequest(new URL(path, stack.apiUrl), { headers, timeoutMs: REQUEST_TIMEOUT_MS }, apiAgent),
        flights,
        timeRange,
        published: () => published.pick(),
        state: {},
      };
      consumerLoops.push(
        (async () => {
          while (!consumersStop && !stop.signal.aborted) {
            const op = pick();
            const started = performance.now();
            let error: string | undefined;
            try {
              if ((await op.run(ctx)) === false) {
                await sleep(5);
                continue;
              }
            } catch (e) {
              error =
                e instanceof OpError || e instanceof TransportError
                  ? e.key
                  : `mismatch ${(e as Error).message ?? String(e)}`;
              ctx.state = {};
            }
            window.op(op.name).record((performance.now() - started) * 1000, error);
            // A failing target answers fast: do not spin on it.
            if (error !== undefined) await sleep(20);
          }
        })(),
      );
    }

    const runPhase = async (name: string, rate: number, seconds: number) => {
      const w = new Window(name);
      window = w;
      publisher.start(rate, w);
      await runFor(seconds, w);
      const unsent = publisher.stop();
      const scheduled = w.publish.scheduled;
      const ackedInPhase = w.publish.acked;
      const drained = await publisher.drain(DRAIN_MS);
      w.ended = performance.now();
      return { w, scheduled, ackedInPhase, unsent, drained };
    };

    let soakRate = options.rate;
    if (options.findMax) {
      const fm = options.findMax;
      const steps: ProbeStep[] = [];
      let good = 0;
      let bad = Number.POSITIVE_INFINITY;
      let rate = fm.startRate;
      let repeat = false;
      while (steps.length < fm.maxSteps && !stop.signal.aborted) {
        const r = await runPhase(`probe ${rate}/s${repeat ? ' again' : ''}`, rate, fm.stepS);
        const p = r.w.publishSummary(r.unsent);
        const publishErrors = p.status429 + p.status5xx + p.transportErrors + p.failed;
        const consumerErrors = r.w.consumerErrors();
        const why =
          publishErrors > 0
            ? `${publishErrors} publish errors`
            : consumerErrors > 0
              ? `${consumerErrors} consumer errors`
              : r.unsent > (1 - KEEP_UP) * r.scheduled
                ? `${r.unsent} of ${r.scheduled} scheduled never sent (${options.inFlight} in flight)`
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
        log(`${r.w.name}: ${why === null ? 'sustained' : `not sustained (${why})`}`);
        // 500 is a bug whatever the load: it fails the run even in the probe.
        for (const [k, n] of [
          ...r.w.publish.rejected,
          ...[...r.w.ops.values()].flatMap((o) => [...o.errors]),
        ])
          if (k.startsWith('500')) failures.push(`${r.w.name}: ${n} × ${k}`);
        if (why !== null && !repeat && steps.length < fm.maxSteps) {
          repeat = true;
          continue;
        }
        repeat = false;
        if (why === null) good = Math.max(good, rate);
        else bad = Math.min(bad, rate);
        // Ramp until a step fails (twice in a row), then bisect until the bracket is within 10%.
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
      const fraction = options.soakFraction ?? 0.7;
      const planned = fraction > 0 && good > 0 ? Math.max(1, Math.floor(good * fraction)) : null;
      probe = { steps, maxRate: good, soakRate: planned };
      if (good === 0) failures.push(`the probe found no sustained rate (first step ${fm.startRate}/s)`);
      soakRate = planned ?? 0;
    }

    if (soakRate > 0 && !stop.signal.aborted) {
      const r = await runPhase('soak', soakRate, options.durationS);
      consumersStop = true;
      await Promise.all(consumerLoops);
      r.w.ended = performance.now();
      const publish = r.w.publishSummary(r.unsent);
      const ops = Object.fromEntries(
        operations.map((o) => [o.name, (r.w.ops.get(o.name) ?? new OpStats()).summary(r.w.seconds())]),
      );
      const soakSamples = samples.filter((s) => s[1] === 'soak');
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
      soak = {
        name: r.w.name,
        targetRate: soakRate,
        durationS: round(r.w.seconds(), 2),
        publish,
        operations: ops,
        errors,
        keptUp: r.unsent <= (1 - KEEP_UP) * r.scheduled && publish.acked === publish.sent,
        serverCores: cores(3),
        clientCores: cores(4) ?? 0,
      };
      for (const [name, o] of Object.entries(ops)) {
        if (o.errors > 0) failures.push(`${name}: ${o.errors} errors ${JSON.stringify(o.errorsBy)}`);
        if (o.count === 0) failures.push(`${name}: never ran`);
      }
      const pubErrors = { ...publish.rejectedBy, ...publish.transportBy };
      if (Object.keys(pubErrors).length > 0) failures.push(`publish: errors ${JSON.stringify(pubErrors)}`);
      if (publish.failed > 0) failures.push(`publish: ${publish.failed} messages never acknowledged`);
      if (!soak.keptUp)
        failures.push(
          `publish: acks did not keep up at ${soakRate}/s (${r.scheduled} scheduled, ${publish.sent} sent, ${publish.acked} acknowledged)`,
        );
      if (!r.drained) failures.push('publish: messages still in flight 30 s after the end');
    }
    consumersStop = true;
    await Promise.all(consumerLoops);
    if (!(await publisher.drain(DRAIN_MS))) failures.push('publish: messages still in flight at the end');

    if (!stack.died()) {
      const stored = (await storedCount(apiAgent, stack.apiUrl)) - baseline;
      const acked = publisher.ackedTotal;
      exactlyOnce = { baseline, stored, acked, equal: stored === acked };
      if (stored !== acked)
        failures.push(`exactly once: ${stored} rows stored for ${acked} messages acknowledged`);
    }
  } catch (e) {
    failures.push(`run aborted: ${(e as Error).message}`);
  } finally {
    consumersStop = true;
    stop.abort();
    publisher.stop();
    clearInterval(sampler);
    bar?.stop();
    await Promise.allSettled(consumerLoops);
    options.signal?.removeEventListener('abort', onAbort);
    const died = stack.died();
    if (died) failures.unshift(`the stack died: ${died}`);
    apiAgent.destroy();
    ingestAgent.destroy();
    await stack.stop();
  }
  if (options.signal?.aborted) failures.push('interrupted');

  const rssSoak = samples
    .filter((s) => s[1] === 'soak' && s[2] !== null)
    .map((s) => ({ t: s[0], mb: s[2] as number }));
  if (stack.pid !== null && soak && rssSoak.length === 0) failures.push('no RSS sample of the server');
  const { operations: _ops, log: _log, signal: _signal, progress: _progress, ...plain } = options;
  return {
    version: VERSION,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: {
      cpus: availableParallelism(),
      model: cpus()[0]?.model ?? null,
      node: process.versions.node,
      loadavgStart: loadStart.map((x) => Math.round(x * 100) / 100),
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
    probe,
    soak,
    exactlyOnce,
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
