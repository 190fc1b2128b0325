/**
 * What one workload run holds while it runs: the stack under load, its clients, the publisher, the
 * window every figure is recorded into, the once-a-second samples of CPU and memory, and the phase
 * timer with its progress bar. The phases (probe.ts, soak.ts), the consumers and verify.ts share it.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { SingleBar } from 'cli-progress';
import { rssMb } from '../../support/proc.ts';
import { DRAIN_MS } from './constants.ts';
import { type Flight, flightTime, loadFlights, Published } from './flights.ts';
import { Window } from './op-stats.ts';
import { DEFAULT_OPERATIONS, type Operation } from './operations.ts';
import { envelopeTemplates, Publisher } from './publisher.ts';
import { externalStack, type LoadTarget, serverCpu, startWorkloadServer } from './server.ts';
import type { WorkloadOptions, WorkloadReport } from './types.ts';

export interface Run {
  options: WorkloadOptions;
  log: (line: string) => void;
  operations: Operation[];
  stack: LoadTarget;
  apiAgent: http.Agent;
  ingestAgent: http.Agent;
  flights: Flight[];
  timeRange: { min: number; max: number };
  published: Published;
  publisher: Publisher;
  /** The window figures are recorded into now: one per phase. */
  window: Window;
  samples: WorkloadReport['samples'];
  /** Aborted by the caller's signal, by the stack dying, or at the end. */
  stop: AbortController;
  bar: SingleBar | undefined;
  failures: string[];
  /** Stops sampling and detaches from the caller's signal. */
  close(): void;
}

/** Starts (or attaches to) the stack and the sampler; the publisher is idle until a phase starts it. */
export async function openRun(options: WorkloadOptions): Promise<Run> {
  const stack =
    options.apiUrl !== undefined && options.ingestUrl !== undefined
      ? externalStack(options.apiUrl, options.ingestUrl, options.pid)
      : await startWorkloadServer();
  const ingestAgent = new http.Agent({ keepAlive: true, maxSockets: options.inFlight });
  const flights = loadFlights();
  const times = flights.map((f) => flightTime(f.date));
  const published = new Published();
  const window = new Window('start');
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal?.addEventListener('abort', onAbort);
  const run: Run = {
    options,
    log: options.log ?? (() => {}),
    operations: options.operations ?? [...DEFAULT_OPERATIONS],
    stack,
    apiAgent: new http.Agent({ keepAlive: true, maxSockets: options.consumers + 2 }),
    ingestAgent,
    flights,
    timeRange: { min: Math.min(...times), max: Math.max(...times) },
    published,
    publisher: new Publisher(
      stack.ingestUrl,
      ingestAgent,
      envelopeTemplates(flights),
      `load-${randomBytes(4).toString('hex')}`,
      options.inFlight,
      published,
      window,
    ),
    window,
    samples: [],
    stop,
    bar: options.progress
      ? new SingleBar({
          stream: process.stderr,
          format:
            '{phase} [{bar}] {value}/{total} s | publish {pub}/s | ops {ops}/s | errors {errors} | RSS {rss} MB',
          hideCursor: true,
        })
      : undefined,
    failures: [],
    close: () => {},
  };
  const sampler = startSampler(run);
  run.close = () => {
    clearInterval(sampler);
    options.signal?.removeEventListener('abort', onAbort);
  };
  return run;
}

/** Once a second: time, phase, server RSS, server and client cores; aborts the run if the stack died. */
function startSampler(run: Run): NodeJS.Timeout {
  const { stack } = run;
  const t0 = performance.now();
  let last = { at: t0, server: serverCpu(stack.pid), client: process.cpuUsage() };
  return setInterval(() => {
    const now = performance.now();
    const server = serverCpu(stack.pid);
    const client = process.cpuUsage();
    const dt = (now - last.at) / 1000;
    run.samples.push([
      Math.round((now - t0) / 100) / 10,
      run.window.name,
      stack.pid === null ? null : rssMb(stack.pid),
      server === null || last.server === null ? null : (server - last.server) / dt,
      (client.user - last.client.user + client.system - last.client.system) / 1e6 / dt,
    ]);
    last = { at: now, server, client };
    if (stack.died()) run.stop.abort();
  }, 1000);
}

/** Waits out a phase (or until aborted), updating the bar or writing a status line every 30 s. */
async function runFor(run: Run, seconds: number, w: Window): Promise<void> {
  const { bar } = run;
  const end = performance.now() + seconds * 1000;
  bar?.start(Math.round(seconds), 0, { phase: w.name, pub: 0, ops: 0, errors: 0, rss: '-' });
  let lastLog = performance.now();
  while (!run.stop.signal.aborted && performance.now() < end) {
    await sleep(Math.min(1000, end - performance.now()));
    const s = w.seconds();
    const ops = [...w.ops.values()].reduce((a, o) => a + o.count, 0);
    const errors = w.consumerErrors() + [...w.publish.latency.errors.values()].reduce((a, b) => a + b, 0);
    const rss = run.samples.at(-1)?.[2];
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
      run.log(
        `${w.name}: ${Math.round(s)}/${Math.round(seconds)} s, publish ${values.pub}/s acked, ` +
          `ops ${values.ops}/s, errors ${errors}, RSS ${values.rss} MB`,
      );
    }
  }
  bar?.stop();
}

export interface PhaseRun {
  w: Window;
  scheduled: number;
  ackedInPhase: number;
  /** Messages scheduled but never sent (the in-flight bound was reached). */
  unsent: number;
  /** Whether every message in flight settled within the drain time. */
  drained: boolean;
}

/** Publishes at `rate` for `seconds` into a fresh window, then lets what is in flight settle. */
export async function runPhase(run: Run, name: string, rate: number, seconds: number): Promise<PhaseRun> {
  const w = new Window(name);
  run.window = w;
  run.publisher.start(rate, w);
  await runFor(run, seconds, w);
  const unsent = run.publisher.stop();
  const scheduled = w.publish.scheduled;
  const ackedInPhase = w.publish.acked;
  const drained = await run.publisher.drain(DRAIN_MS);
  w.ended = performance.now();
  return { w, scheduled, ackedInPhase, unsent, drained };
}
