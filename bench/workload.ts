/**
 * `npm run load -- [options]`: a mixed load and soak generator. A publisher POSTs Pub/Sub push
 * envelopes of real flights records to the ingest endpoint at a steady, scheduled rate while API
 * consumers loop over a weighted mix of reads (cursor pages, filtered lists, NDJSON streams, stats,
 * get by id of published events). `--find-max` first ramps the publish rate in steps to find the
 * highest rate sustained without errors, then soaks at a fraction of it. At the end the rows stored
 * in the warehouse must equal the messages acknowledged (exactly once), and the server's memory is
 * summarised as a trend. Loopback only; every phase is bounded and the run stops by itself. Exits
 * non-zero when an operation had errors, rows stored != acknowledged, or the stack died.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import type { Histogram } from 'hdr-histogram-js';
import { encodePushEnvelope } from '../src/core/delivery.ts';
import { VERSION } from '../src/version.ts';
import { cpuSeconds, freePort, ROOT, rssMb } from './child.ts';
import { fmt, table } from './report.ts';
import { median } from './stats.ts';

// hdr-histogram-js comes with autocannon (a dev dependency); loaded as CommonJS, as load.ts does.
const hdr = createRequire(import.meta.url)('hdr-histogram-js') as typeof import('hdr-histogram-js');

const DATASET = 'flights';
/** Attempts per message, as a push subscription with a dead-letter topic after 5 deliveries. */
const MAX_ATTEMPTS = 5;
const REQUEST_TIMEOUT_MS = 30_000;
/**
 * A phase keeps up when the publisher sent at least this share of the messages its schedule called
 * for: with at most `inFlight` requests outstanding (a push subscription's flow control), a server
 * that acknowledges slower than the schedule leaves a growing backlog of messages never sent.
 */
const KEEP_UP = 0.97;
/** How long the in-flight messages of a phase may take to settle once it has ended. */
const DRAIN_MS = 30_000;
/** Published ids that `get` picks from (the most recent ones). */
const RECENT_IDS = 10_000;
const PAGE_LIMIT = 100;
const MAX_PAGES_PER_WALK = 10;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

// ---------------------------------------------------------------------------------------------
// Options and report

export interface FindMaxOptions {
  /** Rate of the first step, messages per second. */
  startRate: number;
  /** Seconds per step. */
  stepS: number;
  /** Rate multiplier while no step has failed. */
  factor: number;
  /** The probe never offers more than this. */
  maxRate: number;
  /** Steps at most (ramp and refinement). */
  maxSteps: number;
}

export interface WorkloadOptions {
  /** Seconds of the steady (soak) phase. */
  durationS: number;
  /** Publish rate of the steady phase, messages per second, when there is no probe. */
  rate: number;
  /** Concurrent API consumers. */
  consumers: number;
  /** Publish requests in flight at most (including messages waiting for a retry). */
  inFlight: number;
  /** Probe for the highest sustained rate first; the soak then runs at soakFraction × that. */
  findMax?: FindMaxOptions | null;
  /** With findMax: soak rate as a fraction of the maximum; 0 = probe only. */
  soakFraction?: number;
  /** An already-running stack (both, or neither: then a `ducto serve` child is started). */
  apiUrl?: string;
  ingestUrl?: string;
  /** Server process to sample RSS and CPU of, for an already-running stack. */
  pid?: number;
  /** The consumers' operation mix (default: DEFAULT_OPERATIONS). */
  operations?: Operation[];
  /** A progress bar on stderr (the CLI shows it on a TTY only). */
  progress?: boolean;
  /** Status lines while running (default: none). */
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export interface LatencySummary {
  count: number;
  perS: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  /** Errors by `<status> <code>`, `transport <code>`, `timeout` or `mismatch <what>`. */
  errorsBy: Record<string, number>;
}

export interface PublisherReport {
  /** Messages the schedule called for. */
  scheduled: number;
  /** Messages sent (first attempts). */
  sent: number;
  /** Messages acknowledged (2xx). */
  acked: number;
  ackedPerS: number;
  /** Non-2xx answers (each one is retried, as Pub/Sub redelivers), by `<status> <code>`. */
  rejectedBy: Record<string, number>;
  status429: number;
  status5xx: number;
  /** Requests with no answer (reset, refused, timed out), by code; retried as well. */
  transportErrors: number;
  transportBy: Record<string, number>;
  /** Messages still unacknowledged after every attempt (a push subscription would dead-letter them). */
  failed: number;
  /** Scheduled but never sent when the phase ended: the publisher was behind its schedule. */
  unsent: number;
  latency: LatencySummary;
}

export interface PhaseReport {
  name: string;
  targetRate: number;
  durationS: number;
  publish: PublisherReport;
  operations: Record<string, LatencySummary>;
  /** Errors of every operation and of the publisher. */
  errors: number;
  /** Sent ≥ KEEP_UP × scheduled, and everything sent was acknowledged once the phase settled. */
  keptUp: boolean;
  serverCores: number | null;
  clientCores: number;
}

export interface ProbeStep {
  rate: number;
  /** Scheduled but never sent when the step ended. */
  unsent: number;
  /** A repeat of a step that failed: one failure may be another process's burst on a shared machine. */
  repeat: boolean;
  scheduled: number;
  ackedInStep: number;
  ackedPerS: number;
  publishErrors: number;
  consumerErrors: number;
  publishP99Ms: number;
  /** Consumer requests per second over the step. */
  consumerOpsPerS: number;
  operations: Record<string, LatencySummary>;
  sustained: boolean;
  why: string | null;
}

export interface MemoryTrend {
  samples: number;
  firstMinuteMedianMb: number;
  lastMinuteMedianMb: number;
  /** Least-squares slope over the second half of the phase, MB per minute. */
  slopeMbPerMin: number | null;
  maxMb: number;
}

export interface WorkloadReport {
  version: string;
  startedAt: string;
  finishedAt: string;
  machine: { cpus: number; model: string | null; node: string; loadavgStart: number[]; loadavgEnd: number[] };
  target: { ownStack: boolean; apiUrl: string; ingestUrl: string; sampledPid: number | null };
  options: Omit<WorkloadOptions, 'operations' | 'log' | 'signal' | 'progress'> & { operations: string[] };
  env: Record<string, string>;
  probe: { steps: ProbeStep[]; maxRate: number; soakRate: number | null } | null;
  soak: PhaseReport | null;
  exactlyOnce: { baseline: number; stored: number; acked: number; equal: boolean } | null;
  memory: MemoryTrend | null;
  /** One sample per second: [seconds since start, phase, RSS MB, server cores, client cores]. */
  samples: Array<[number, string, number | null, number | null, number]>;
  failures: string[];
  ok: boolean;
}

// ---------------------------------------------------------------------------------------------
// Measurements

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

class OpStats {
  readonly histogram: Histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
  });
  count = 0;
  readonly errors = new Map<string, number>();

  /** One completed request: its latency in microseconds, and its error key when it failed. */
  record(micros: number, error?: string): void {
    this.count++;
    this.histogram.recordValue(Math.min(600_000_000, Math.max(1, Math.round(micros))));
    if (error !== undefined) this.errors.set(error, (this.errors.get(error) ?? 0) + 1);
  }

  summary(seconds: number): LatencySummary {
    const at = (p: number) =>
      this.count === 0 ? 0 : round(this.histogram.getValueAtPercentile(p) / 1000, 3);
    const errorsBy = Object.fromEntries([...this.errors].sort(([a], [b]) => (a < b ? -1 : 1)));
    return {
      count: this.count,
      perS: round(this.count / Math.max(seconds, 0.001), 2),
      p50Ms: at(50),
      p95Ms: at(95),
      p99Ms: at(99),
      maxMs: this.count === 0 ? 0 : round(this.histogram.maxValue / 1000, 3),
      errors: [...this.errors.values()].reduce((a, b) => a + b, 0),
      errorsBy,
    };
  }
}

/** What happened while one phase (or probe step) was current. */
class Window {
  readonly started = performance.now();
  ended: number | null = null;
  readonly ops = new Map<string, OpStats>();
  readonly publish = {
    scheduled: 0,
    sent: 0,
    acked: 0,
    failed: 0,
    rejected: new Map<string, number>(),
    transport: new Map<string, number>(),
    latency: new OpStats(),
  };

  constructor(readonly name: string) {}

  op(name: string): OpStats {
    let s = this.ops.get(name);
    if (!s) {
      s = new OpStats();
      this.ops.set(name, s);
    }
    return s;
  }

  seconds(): number {
    return ((this.ended ?? performance.now()) - this.started) / 1000;
  }

  consumerErrors(): number {
    let n = 0;
    for (const s of this.ops.values()) for (const c of s.errors.values()) n += c;
    return n;
  }

  publishSummary(unsent: number): PublisherReport {
    const p = this.publish;
    const sum = (m: Map<string, number>, keep: (k: string) => boolean = () => true) =>
      [...m].filter(([k]) => keep(k)).reduce((a, [, v]) => a + v, 0);
    const latency = p.latency.summary(this.seconds());
    return {
      scheduled: p.scheduled,
      sent: p.sent,
      acked: p.acked,
      ackedPerS: round(p.acked / Math.max(this.seconds(), 0.001), 2),
      rejectedBy: Object.fromEntries(p.rejected),
      status429: sum(p.rejected, (k) => k.startsWith('429')),
      status5xx: sum(p.rejected, (k) => k.startsWith('5')),
      transportErrors: sum(p.transport),
      transportBy: Object.fromEntries(p.transport),
      failed: p.failed,
      unsent,
      latency,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP

export interface Reply {
  status: number;
  contentType: string;
  body: Buffer;
}

/** A request failure that is not a response: its error key. */
class RequestError extends Error {
  constructor(readonly key: string) {
    super(key);
  }
}

/** An operation whose answer was wrong: its error key. */
export class OpError extends Error {
  constructor(readonly key: string) {
    super(key);
  }
}

function request(
  agent: http.Agent,
  url: URL,
  method: 'GET' | 'POST',
  headers: Record<string, string>,
  body?: string,
): Promise<Reply> {
  return new Promise<Reply>((resolvePromise, reject) => {
    const req = http.request(
      url,
      {
        method,
        agent,
        headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) },
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolvePromise({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            body: Buffer.concat(chunks),
          }),
        );
        res.on('error', (e: NodeJS.ErrnoException) =>
          reject(new RequestError(`transport ${e.code ?? e.message}`)),
        );
      },
    );
    req.on('timeout', () => req.destroy(new RequestError('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) =>
      reject(e instanceof RequestError ? e : new RequestError(`transport ${e.code ?? e.message}`)),
    );
    req.end(body);
  });
}

/** `<status> <code>` of a non-2xx answer, the code read from its problem+json body. */
function statusKey(reply: Reply): string {
  let code = '';
  if (reply.contentType.includes('json')) {
    try {
      const parsed = JSON.parse(reply.body.toString('utf8')) as { code?: unknown };
      if (typeof parsed.code === 'string') code = ` ${parsed.code}`;
    } catch {
      // not JSON after all
    }
  }
  return `${reply.status}${code}`;
}

/** Throws unless the answer is `status`; returns its body parsed as JSON when it is JSON. */
export function expectStatus(reply: Reply, status = 200): unknown {
  if (reply.status !== status) throw new OpError(statusKey(reply));
  if (!reply.contentType.includes('json')) return undefined;
  try {
    return JSON.parse(reply.body.toString('utf8'));
  } catch {
    throw new OpError('mismatch invalid json');
  }
}

/** Target URLs must be loopback: the generator never loads anything but this machine. */
export function assertLoopback(raw: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`${what} "${raw}" is not a URL`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  if (url.protocol !== 'http:' || !loopback)
    throw new Error(
      `${what} ${raw} is not a loopback http:// URL: the load generator only targets 127.0.0.0/8, localhost or ::1`,
    );
  return url;
}

// ---------------------------------------------------------------------------------------------
// Data

type Flight = { date: string; delay: number; distance: number; origin: string; destination: string };

/** `2001/01/01 06:55` (the vega files' format, UTC) → epoch ms. */
function flightTime(date: string): number {
  return Date.parse(`${date.replaceAll('/', '-').replace(' ', 'T')}:00Z`);
}

function loadFlights(): Flight[] {
  return JSON.parse(
    readFileSync(join(ROOT, 'node_modules/vega-datasets/data/flights-10k.json'), 'utf8'),
  ) as Flight[];
}

/** The most recently acknowledged event ids and the record each carried. */
class Published {
  private readonly ids: string[] = [];
  private readonly records: number[] = [];
  private n = 0;

  add(id: string, record: number): void {
    const i = this.n++ % RECENT_IDS;
    this.ids[i] = id;
    this.records[i] = record;
  }

  pick(): { id: string; record: number } | null {
    if (this.n === 0) return null;
    const i = Math.floor(Math.random() * Math.min(this.n, RECENT_IDS));
    return { id: this.ids[i]!, record: this.records[i]! };
  }
}

const pickOne = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
const iso = (ms: number) => new Date(ms).toISOString();

// ---------------------------------------------------------------------------------------------
// Publisher

/**
 * Sends push envelopes on a schedule (rate × elapsed time, so a late timer never lowers the rate),
 * with at most `maxInFlight` requests outstanding. A non-2xx answer or a transport error is retried
 * with backoff, as a push subscription redelivers; after MAX_ATTEMPTS the message counts as failed.
 */
class Publisher {
  private rate = 0;
  private t0 = 0;
  private scheduled = 0;
  private sent = 0;
  private timer: NodeJS.Timeout | null = null;
  private seq = 0;
  private settled: Array<() => void> = [];
  inFlight = 0;
  ackedTotal = 0;
  window: Window;

  constructor(
    private readonly url: URL,
    private readonly agent: http.Agent,
    private readonly templates: string[][],
    private readonly runId: string,
    private readonly maxInFlight: number,
    private readonly published: Published,
    initial: Window,
  ) {
    this.window = initial;
  }

  start(rate: number, window: Window): void {
    this.window = window;
    this.rate = rate;
    this.t0 = performance.now();
    this.scheduled = 0;
    this.sent = 0;
    this.timer ??= setInterval(() => this.pump(), 2);
  }

  /** Stops scheduling; returns how many scheduled messages were never sent. */
  stop(): number {
    this.pump();
    this.rate = 0;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    return this.scheduled - this.sent;
  }

  /** Resolves once nothing is in flight, or after `ms`; true when drained. */
  async drain(ms: number): Promise<boolean> {
    const deadline = performance.now() + ms;
    while (this.inFlight > 0) {
      const left = deadline - performance.now();
      if (left <= 0) return false;
      await Promise.race([new Promise<void>((r) => this.settled.push(r)), sleep(Math.min(left, 1000))]);
    }
    return true;
  }

  private pump(): void {
    if (this.rate <= 0) return;
    const due = Math.floor(((performance.now() - this.t0) * this.rate) / 1000);
    if (due > this.scheduled) {
      this.window.publish.scheduled += due - this.scheduled;
      this.scheduled = due;
    }
    while (this.inFlight < this.maxInFlight && this.sent < this.scheduled) {
      this.sent++;
      void this.deliver();
    }
  }

  private async deliver(): Promise<void> {
    const seq = this.seq++;
    const record = seq % this.templates.length;
    const id = `${this.runId}-${seq}`;
    const body = this.templates[record]!.join(id);
    this.inFlight++;
    this.window.publish.sent++;
    try {
      for (let attempt = 1; ; attempt++) {
        const w = this.window;
        const started = performance.now();
        try {
          const reply = await request(
            this.agent,
            this.url,
            'POST',
            { 'content-type': 'application/json' },
            body,
          );
          const ok = reply.status >= 200 && reply.status < 300;
          const key = ok ? undefined : statusKey(reply);
          w.publish.latency.record((performance.now() - started) * 1000, key);
          if (key === undefined) {
            w.publish.acked++;
            this.ackedTotal++;
            this.published.add(id, record);
            return;
          }
          w.publish.rejected.set(key, (w.publish.rejected.get(key) ?? 0) + 1);
        } catch (e) {
          const key = e instanceof RequestError ? e.key : `transport ${String(e)}`;
          w.publish.latency.record((performance.now() - started) * 1000, key);
          w.publish.transport.set(key, (w.publish.transport.get(key) ?? 0) + 1);
        }
        if (attempt >= MAX_ATTEMPTS) {
          this.window.publish.failed++;
          return;
        }
        // Full jitter, so that retries do not come back in step; capped well below a phase.
        await sleep(Math.random() * Math.min(100 * 2 ** attempt, 2000));
      }
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) for (const r of this.settled.splice(0)) r();
      this.pump();
    }
  }
}

/** Push envelopes of every record around a placeholder id: a message costs a join, not an encode. */
function envelopeTemplates(flights: Flight[]): string[][] {
  const HOLE = '\u0000';
  const published = new Date();
  const escaped = JSON.stringify(HOLE).slice(1, -1);
  return flights.map((record) =>
    encodePushEnvelope(
      JSON.stringify(record),
      HOLE,
      { dataset: DATASET, event_id: HOLE },
      `projects/ducto-local/subscriptions/${DATASET}-ingest`,
      published,
    ).split(escaped),
  );
}

// ---------------------------------------------------------------------------------------------
// Consumers and their operations

export interface OpContext {
  /** GET a path (with its query) of the API. */
  get(pathAndQuery: string, headers?: Record<string, string>): Promise<Reply>;
  flights: readonly Flight[];
  /** Range of the records' event times, epoch ms. */
  timeRange: { min: number; max: number };
  /** A recently acknowledged event and the index of its record in `flights`, if any yet. */
  published(): { id: string; record: number } | null;
  /** Per-consumer state an operation may keep between calls (e.g. a cursor walk). */
  state: Record<string, unknown>;
}

export interface Operation {
  name: string;
  weight: number;
  /** One request; throws OpError on a wrong answer; false when there was nothing to do. */
  run(ctx: OpContext): Promise<boolean | undefined>;
}

type Row = Record<string, unknown>;

function rowsOf(body: unknown, limit: number): Row[] {
  const data = (body as { data?: unknown } | undefined)?.data;
  if (!Array.isArray(data)) throw new OpError('mismatch no data array');
  if (data.length > limit) throw new OpError('mismatch page larger than limit');
  return data as Row[];
}

const timeOf = (row: Row) => Date.parse(String(row.date));

function randomDay(ctx: OpContext): number {
  const days = Math.max(1, Math.floor((ctx.timeRange.max - ctx.timeRange.min) / DAY_MS));
  return Math.floor(ctx.timeRange.min / DAY_MS) * DAY_MS + Math.floor(Math.random() * days) * DAY_MS;
}

interface Walk {
  params: URLSearchParams;
  from: number;
  pages: number;
}

/** Pages forward from a random day with the cursor each page returns, up to 10 pages a walk. */
const pageOp: Operation = {
  name: 'page',
  weight: 30,
  async run(ctx) {
    let walk = ctx.state.walk as Walk | undefined;
    if (!walk) {
      const from = randomDay(ctx);
      walk = { params: new URLSearchParams({ from: iso(from), limit: String(PAGE_LIMIT) }), from, pages: 0 };
    }
    const body = expectStatus(await ctx.get(`/v1/${DATASET}?${walk.params}`));
    const rows = rowsOf(body, PAGE_LIMIT);
    if (rows.some((r) => !(timeOf(r) >= walk.from) || typeof r.event_id !== 'string'))
      throw new OpError('mismatch page row outside its query');
    const next = (body as { next_cursor?: unknown }).next_cursor;
    walk.pages++;
    if (typeof next === 'string' && walk.pages < MAX_PAGES_PER_WALK) {
      walk.params.set('cursor', next);
      ctx.state.walk = walk;
    } else {
      ctx.state.walk = undefined;
    }
    return true;
  },
};

/** Equality and range filters; every row returned must satisfy them. */
const filterOp: Operation = {
  name: 'filter',
  weight: 25,
  async run(ctx) {
    const origins = [...new Set([pickOne(ctx.flights).origin, pickOne(ctx.flights).origin])];
    const minDelay = pickOne([0, 15, 30, 60]);
    const query = new URLSearchParams({
      origin: origins.join(','),
      'delay.gte': String(minDelay),
      limit: '50',
    });
    const rows = rowsOf(expectStatus(await ctx.get(`/v1/${DATASET}?${query}`)), 50);
    if (rows.some((r) => !origins.includes(String(r.origin)) || !(Number(r.delay) >= minDelay)))
      throw new OpError('mismatch filtered row outside the filter');
    return true;
  },
};

/** The NDJSON stream of one random hour; every line must parse and fall in the hour. */
const streamOp: Operation = {
  name: 'stream',
  weight: 10,
  async run(ctx) {
    const span = ctx.timeRange.max - ctx.timeRange.min;
    const from = Math.floor((ctx.timeRange.min + Math.random() * span) / HOUR_MS) * HOUR_MS;
    const query = new URLSearchParams({ from: iso(from), to: iso(from + HOUR_MS) });
    const reply = await ctx.get(`/v1/${DATASET}?${query}`, { accept: 'application/x-ndjson' });
    if (reply.status !== 200) throw new OpError(statusKey(reply));
    if (!reply.contentType.startsWith('application/x-ndjson')) throw new OpError('mismatch stream type');
    const text = reply.body.toString('utf8');
    if (text.length > 0 && !text.endsWith('\n')) throw new OpError('mismatch truncated stream');
    for (const line of text.split('\n')) {
      if (line === '') continue;
      let t: number;
      try {
        t = timeOf(JSON.parse(line) as Row);
      } catch {
        throw new OpError('mismatch stream line is not JSON');
      }
      if (!(t >= from && t < from + HOUR_MS)) throw new OpError('mismatch stream row outside its range');
    }
    return true;
  },
};

/** Aggregates by origin, with and without a filter. */
const statsOp: Operation = {
  name: 'stats',
  weight: 15,
  async run(ctx) {
    const query = new URLSearchParams({ group_by: 'origin' });
    const variant = Math.random();
    if (variant < 0.33) query.set('delay.gt', '0');
    else if (variant < 0.66) {
      const from = randomDay(ctx);
      query.set('from', iso(from));
      query.set('to', iso(from + 7 * DAY_MS));
    }
    const rows = rowsOf(
      expectStatus(await ctx.get(`/v1/${DATASET}/stats?${query}`)),
      Number.MAX_SAFE_INTEGER,
    );
    if (rows.some((r) => typeof r.origin !== 'string' || typeof r.count !== 'number'))
      throw new OpError('mismatch stats row');
    return true;
  },
};

/** One acknowledged event by id: it must be there, with the record it was published with. */
const getOp: Operation = {
  name: 'get',
  weight: 20,
  async run(ctx) {
    const picked = ctx.published();
    if (!picked) return false;
    const body = expectStatus(await ctx.get(`/v1/${DATASET}/${encodeURIComponent(picked.id)}`));
    const row = (body as { data?: Row } | undefined)?.data;
    const want = ctx.flights[picked.record]!;
    if (
      row?.event_id !== picked.id ||
      row.origin !== want.origin ||
      row.destination !== want.destination ||
      row.delay !== want.delay ||
      row.distance !== want.distance ||
      timeOf(row) !== flightTime(want.date)
    )
      throw new OpError('mismatch event differs from the one published');
    return true;
  },
};

export const DEFAULT_OPERATIONS: readonly Operation[] = [pageOp, filterOp, streamOp, statsOp, getOp];

// ---------------------------------------------------------------------------------------------
// The stack

interface Stack {
  apiUrl: URL;
  ingestUrl: URL;
  pid: number | null;
  own: boolean;
  /** Why the stack is gone, or null while it runs (own stack only). */
  died(): string | null;
  stop(): Promise<void>;
}

/** `ducto serve --pubsub=direct --no-seed` on free loopback ports with a scratch DuckDB file. */
async function startWorkloadServer(): Promise<Stack> {
  const port = await freePort();
  let ingestPort = await freePort();
  while (ingestPort === port) ingestPort = await freePort();
  const tmp = mkdtempSync(join(tmpdir(), 'ducto-load-'));
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(ROOT, 'bin/ducto.mjs'),
      'serve',
      '--pubsub=direct',
      '--no-seed',
      '--port',
      String(port),
      '--ingest-port',
      String(ingestPort),
      '--db',
      join(tmp, 'load.duckdb'),
    ],
    {
      cwd: ROOT,
      env: { ...process.env, HOST: '127.0.0.1', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const keep = (c: Buffer) => {
    output = (output + c.toString()).slice(-8000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let died: string | null = null;
  let stopping = false;
  const exited = once(child, 'exit');
  child.once('exit', (code, signal) => {
    if (!stopping) died = `ducto serve exited (${signal ?? code}) during the run\n${output}`;
  });
  const cleanup = () => rmSync(tmp, { recursive: true, force: true });
  const apiUrl = new URL(`http://127.0.0.1:${port}`);
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (died) {
      cleanup();
      throw new Error((died as string).replace('during the run', 'at start'));
    }
    try {
      if ((await fetch(new URL('/healthz', apiUrl))).ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      cleanup();
      throw new Error(`ducto serve did not answer on ${apiUrl} within 60 s\n${output}`);
    }
    await sleep(100);
  }
  return {
    apiUrl,
    ingestUrl: new URL(`http://127.0.0.1:${ingestPort}/`),
    pid: child.pid ?? null,
    own: true,
    died: () => died,
    async stop() {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      cleanup();
    },
  };
}

function externalStack(apiUrl: string, ingestUrl: string, pid: number | undefined): Stack {
  return {
    apiUrl: assertLoopback(apiUrl, '--url'),
    ingestUrl: assertLoopback(ingestUrl, '--ingest-url'),
    pid: pid ?? null,
    own: false,
    died: () => null,
    stop: async () => {},
  };
}

/** Rows in the dataset. The `from` bound matches every row and differs per call, so no cached answer. */
let countSeq = 0;
async function storedCount(agent: http.Agent, apiUrl: URL): Promise<number> {
  const from = iso((Date.now() % 1_000_000_000) + countSeq++);
  const reply = await request(agent, new URL(`/v1/${DATASET}/stats?from=${from}`, apiUrl), 'GET', {});
  const body = expectStatus(reply) as { data?: Array<{ count?: unknown }> };
  const count = body.data?.[0]?.count;
  if (typeof count !== 'number')
    throw new Error(`stats answered no count: ${reply.body.toString().slice(0, 200)}`);
  return count;
}

function serverCpu(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    return cpuSeconds(pid);
  } catch {
    return null;
  }
}

/** First-minute and last-minute medians, and the slope of a least-squares line over the second half. */
export function memoryTrend(samples: ReadonlyArray<{ t: number; mb: number }>): MemoryTrend | null {
  if (samples.length === 0) return null;
  const t0 = samples[0]!.t;
  const t1 = samples[samples.length - 1]!.t;
  const first = samples.filter((s) => s.t - t0 < 60).map((s) => s.mb);
  const last = samples.filter((s) => t1 - s.t < 60).map((s) => s.mb);
  const half = samples.filter((s) => s.t >= t0 + (t1 - t0) / 2);
  let slope: number | null = null;
  if (half.length >= 2) {
    const xs = half.map((s) => s.t / 60);
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
    const my = half.reduce((a, s) => a + s.mb, 0) / half.length;
    let num = 0;
    let den = 0;
    half.forEach((s, i) => {
      num += (xs[i]! - mx) * (s.mb - my);
      den += (xs[i]! - mx) ** 2;
    });
    slope = den === 0 ? null : num / den;
  }
  return {
    samples: samples.length,
    firstMinuteMedianMb: round(median(first), 1),
    lastMinuteMedianMb: round(median(last), 1),
    slopeMbPerMin: slope === null ? null : round(slope, 3),
    maxMb: round(Math.max(...samples.map((s) => s.mb)), 1),
  };
}

// ---------------------------------------------------------------------------------------------
// The run

function validate(o: WorkloadOptions): void {
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
        get: (path, headers = {}) => request(apiAgent, new URL(path, stack.apiUrl), 'GET', headers),
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
                e instanceof OpError || e instanceof RequestError
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

// ---------------------------------------------------------------------------------------------
// Text report

export function formatReport(r: WorkloadReport): string {
  const out: string[] = [];
  if (r.probe) {
    out.push(`Probe: publish rate in steps with ${r.options.consumers} consumers running`);
    out.push(
      table(
        [
          'rate/s',
          'acked/s',
          'publish p99 ms',
          'consumer ops/s',
          'publish errors',
          'consumer errors',
          'sustained',
        ],
        r.probe.steps.map((s) => [
          `${s.rate}${s.repeat ? ' (again)' : ''}`,
          s.ackedPerS,
          s.publishP99Ms,
          s.consumerOpsPerS,
          s.publishErrors,
          s.consumerErrors,
          s.sustained ? 'yes' : `no: ${s.why}`,
        ]),
      ),
    );
    out.push(
      `max sustained rate: ${fmt(r.probe.maxRate)} msgs/s; soak rate: ${
        r.probe.soakRate === null ? 'none' : `${fmt(r.probe.soakRate)} msgs/s`
      }\n`,
    );
  }
  if (r.soak) {
    const s = r.soak;
    const p = s.publish;
    out.push(
      `Soak: ${fmt(s.targetRate)} msgs/s for ${fmt(s.durationS)} s, ${r.options.consumers} consumers` +
        ` (server ${s.serverCores === null ? '?' : fmt(s.serverCores)} cores, load generator ${fmt(s.clientCores)} cores)`,
    );
    const errorText = (by: Record<string, number>) =>
      Object.entries(by)
        .map(([k, n]) => `${k}: ${n}`)
        .join(', ') || '0';
    out.push(
      table(
        ['operation', 'count', 'per s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'errors'],
        [
          [
            'publish (POST)',
            p.latency.count,
            p.latency.perS,
            p.latency.p50Ms,
            p.latency.p95Ms,
            p.latency.p99Ms,
            p.latency.maxMs,
            errorText(p.latency.errorsBy),
          ],
          ...Object.entries(s.operations).map(([name, o]) => [
            name,
            o.count,
            o.perS,
            o.p50Ms,
            o.p95Ms,
            o.p99Ms,
            o.maxMs,
            errorText(o.errorsBy),
          ]),
        ],
      ),
    );
    out.push(
      `publish: scheduled ${p.scheduled}, sent ${p.sent}, acked (2xx) ${p.acked} (${fmt(p.ackedPerS)}/s), ` +
        `429 ${p.status429}, 5xx ${p.status5xx}, transport errors ${p.transportErrors}, ` +
        `never acked ${p.failed}, behind schedule ${p.unsent}`,
    );
  }
  if (r.exactlyOnce)
    out.push(
      `exactly once: ${r.exactlyOnce.stored} rows stored, ${r.exactlyOnce.acked} acknowledged ` +
        `${r.exactlyOnce.equal ? '(equal)' : '(DIFFERENT)'}`,
    );
  if (r.memory) {
    const m = r.memory;
    out.push(
      `server RSS (${m.samples} samples): first minute median ${fmt(m.firstMinuteMedianMb)} MB, ` +
        `last minute median ${fmt(m.lastMinuteMedianMb)} MB, max ${fmt(m.maxMb)} MB, ` +
        `slope over the second half ${m.slopeMbPerMin === null ? '?' : fmt(m.slopeMbPerMin)} MB/min`,
    );
  }
  out.push(
    `load average ${r.machine.loadavgStart.join(' ')} → ${r.machine.loadavgEnd.join(' ')} on ${r.machine.cpus} CPUs`,
  );
  out.push(r.ok ? 'OK' : `FAILED:\n${r.failures.map((f) => `  - ${f}`).join('\n')}`);
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// CLI

const HELP = `npm run load -- [options]
  --duration S         seconds of the steady (soak) phase (default 60)
  --rate N             publish messages per second in the steady phase (default 1000)
  --consumers N        concurrent API consumers (default 8)
  --in-flight N        publish requests in flight at most (default 256)
  --find-max           first ramp the publish rate in steps to the highest sustained rate
  --soak-fraction F    with --find-max: soak at F × the maximum for --duration (default 0.7; 0 = probe only)
  --start-rate N       with --find-max: rate of the first step (default 500)
  --step S             with --find-max: seconds per step (default 10)
  --max-rate N         with --find-max: never offer more than this (default 50000)
  --json FILE          write the machine-readable report there
  --url URL            API of an already-running stack (loopback only); needs --ingest-url
  --ingest-url URL     its ingest push endpoint
  --pid N              with --url: the server process whose RSS and CPU are sampled
Without --url, a \`ducto serve --pubsub=direct --no-seed\` child runs on free loopback ports with a
scratch DuckDB file, and is stopped and removed at the end.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '60' },
      rate: { type: 'string', default: '1000' },
      consumers: { type: 'string', default: '8' },
      'in-flight': { type: 'string', default: '256' },
      'find-max': { type: 'boolean', default: false },
      'soak-fraction': { type: 'string', default: '0.7' },
      'start-rate': { type: 'string', default: '500' },
      step: { type: 'string', default: '10' },
      'max-rate': { type: 'string', default: '50000' },
      json: { type: 'string' },
      url: { type: 'string' },
      'ingest-url': { type: 'string' },
      pid: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const num = (name: string, raw: string) => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw new Error(`--${name} must be a number, not "${raw}"`);
    return n;
  };
  const controller = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => controller.abort());
  const options: WorkloadOptions = {
    durationS: num('duration', values.duration),
    rate: num('rate', values.rate),
    consumers: Math.round(num('consumers', values.consumers)),
    inFlight: Math.round(num('in-flight', values['in-flight'])),
    findMax: values['find-max']
      ? {
          startRate: num('start-rate', values['start-rate']),
          stepS: num('step', values.step),
          factor: 1.5,
          maxRate: num('max-rate', values['max-rate']),
          maxSteps: 16,
        }
      : null,
    soakFraction: num('soak-fraction', values['soak-fraction']),
    apiUrl: values.url,
    ingestUrl: values['ingest-url'],
    pid: values.pid === undefined ? undefined : num('pid', values.pid),
    progress: process.stderr.isTTY === true,
    log: (line) => console.error(line),
    signal: controller.signal,
  };
  const report = await runWorkload(options);
  console.log(formatReport(report));
  if (values.json) {
    const file = resolve(values.json);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(`${file}.tmp`, `${JSON.stringify(report, null, 2)}\n`);
    renameSync(`${file}.tmp`, file);
    console.log(`report: ${values.json}`);
  }
  return report.ok ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(`load: ${(e as Error).message ?? String(e)}`);
      process.exit(2);
    },
  );
}
