import { randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import { availableParallelism, loadavg } from 'node:os';
import { type Message, PubSub } from '@google-cloud/pubsub';
import { encodePushEnvelope } from '../src/core/delivery.ts';
import { emulatorClientConfig, findEmulatorLauncher, startEmulator } from '../src/pubsub/emulator.ts';
import { cpuSeconds, freePort } from '../support/proc.ts';
import type { BenchOptions, ScenarioResult } from './options.ts';
import { type Goal, goal, table } from './report.ts';
import {
  call,
  DATASET,
  descendantsCpuSeconds,
  type Kind,
  PROJECT,
  type Publisher,
  pubsubPublisher,
  type Serve,
  type ServerCounts,
  serverCounts,
  startServe,
} from './stack.ts';

/*
 * End-to-end freshness: from the publish call to the moment the event is visible through the API,
 * at a steady publish rate. The stack runs as `ducto serve` in a child process (which runs the
 * emulator as its own child); this process publishes and polls.
 *
 * How visibility is observed: a poller asks `GET /v1/flights?fields=event_id&from=T` with
 * `Accept: application/x-ndjson` every POLL_MS (start to start), where T is the publish time of the
 * oldest event not seen yet (each event's time field is its publish wall-clock time). NDJSON streams
 * bypass the API's response cache (they answer `cache-control: no-store` and never go through
 * src/api/cache.ts), so a poll always reads the warehouse. An event's freshness is the moment the
 * first response holding it was fully read minus its publish call: an upper bound on the true value,
 * at most one poll interval plus one poll response time above it (both are reported).
 *
 * Subjects, in the same run:
 *   - emulator + pull: `--pubsub=emulator --delivery=pull`, published with the @google-cloud/pubsub
 *     publisher (batching on) to the dataset's topic;
 *   - the emulator alone: the same publisher and rate into an emulator of its own, received by a
 *     streaming-pull subscriber that acknowledges at once (no ducto, no API): the emulator's floor;
 *   - baseline, direct push: `--pubsub=direct`, this process POSTs push envelopes to the ingest
 *     endpoint at the same rate, as Pub/Sub push would (no broker): ducto without the emulator.
 * The emulator's share shows twice: as the floor, and as the gap between the first and last rows.
 */

/** Start-to-start interval of the API polls. */
const POLL_MS = 50;
/** The poll window never reaches further back than this (a lost event must not grow it forever). */
const WINDOW_CAP_MS = 30_000;
/** How long after the last publish the poller keeps looking for events not yet seen. */
const DRAIN_MS = 30_000;
/** Publishes in flight at most; past it the publisher falls behind (visible in the achieved rate). */
const MAX_IN_FLIGHT = 4_000;

interface RunStats {
  published: number;
  publishErrors: number;
  firstPublishError: string | null;
  publishRetries: number;
  achievedRate: number;
  seen: number;
  freshnessMs: { p50: number; p95: number; p99: number; max: number; mean: number };
  lost: number;
  duplicated: number;
  polls: number;
  pollErrors: number;
  firstPollError: string | null;
  pollIntervalMs: { p50: number; p99: number; max: number };
  pollResponseMs: { p50: number; p99: number };
  /** Rows the largest poll returned. */
  maxPollRows: number;
  ingest: Record<string, number>;
  /**
   * The server's own view, from `ducto_ingest_e2e_latency_seconds` (Pub/Sub publish time → durable
   * write, per stored event): the smallest histogram bound holding half and 99% of the run's events.
   * The rest of the freshness is the publisher's batching and the read through the API.
   */
  storedWithinS: { p50: number; p99: number };
  /** Load average (1 min) of the machine before and after the run: the machine is shared. */
  loadAvg: [number, number];
  cores: { server: number; emulator: number; bench: number };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Nearest-rank quantile of sorted values. */
function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** The smallest bucket bound holding the share `q` of the events counted between two scrapes. */
function bucketQuantile(before: ServerCounts, after: ServerCounts, q: number): number {
  const bounds = [...after.latency.keys()].sort((a, b) => a - b);
  const delta = (le: number) => (after.latency.get(le) ?? 0) - (before.latency.get(le) ?? 0);
  const total = delta(Number.POSITIVE_INFINITY);
  if (total === 0) return Number.NaN;
  return bounds.find((le) => delta(le) >= q * total) ?? Number.NaN;
}

/** What Pub/Sub push does without a broker: POST the envelope, retry a 429/503 after a pause. */
function pushPublisher(ingestUrl: string): Publisher {
  let retries = 0;
  const url = `${ingestUrl}/?dataset=${DATASET}`;
  // Pub/Sub push keeps many requests in flight; 256 connections are more than this rate needs.
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  return {
    send: async (id, data, publishedAtMs) => {
      const body = encodePushEnvelope(
        data,
        id,
        { event_id: id, dataset: DATASET },
        `projects/${PROJECT}/subscriptions/${DATASET}-ingest`,
        new Date(publishedAtMs),
      );
      for (let attempt = 1; ; attempt++) {
        const res = await call(agent, url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        if (res.status >= 200 && res.status < 300) return;
        if ((res.status !== 429 && res.status !== 503) || attempt >= 50)
          throw new Error(`the ingest endpoint answered ${res.status}`);
        retries++;
        await sleep(100);
      }
    },
    retries: () => retries,
    close: async () => agent.destroy(),
  };
}

/** The events of one run: publish call times, and what the publisher got back. */
interface Published {
  n: number;
  prefix: string;
  /** Publish call time of event i (epoch ms); its time field holds the same instant. */
  at: Float64Array;
  sent: number;
  settled: number;
  errors: number;
  firstError: string | null;
}

function newRun(label: string, rate: number, seconds: number): Published {
  const n = Math.max(1, Math.round(rate * seconds));
  return {
    n,
    prefix: `fresh-${label}-${randomBytes(4).toString('hex')}-`,
    at: new Float64Array(n),
    sent: 0,
    settled: 0,
    errors: 0,
    firstError: null,
  };
}

/** Publishes the run's events at a steady rate (a 2 ms tick); resolves once all are sent. */
async function publishSteady(run: Published, publisher: Publisher, rate: number): Promise<void> {
  let inFlight = 0;
  const publishOne = (i: number) => {
    const t = Date.now();
    run.at[i] = t;
    const data = Buffer.from(
      JSON.stringify({
        date: new Date(t).toISOString(),
        delay: (i % 120) - 20,
        distance: 100 + (i % 2000),
        origin: 'BEN',
        destination: 'CHM',
      }),
    );
    inFlight++;
    publisher.send(`${run.prefix}${i}`, data, t).then(
      () => {
        inFlight--;
        run.settled++;
      },
      (e: unknown) => {
        inFlight--;
        run.settled++;
        run.errors++;
        run.firstError ??= e instanceof Error ? e.message : String(e);
      },
    );
  };
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(run.n, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
      while (run.sent < due && inFlight < MAX_IN_FLIGHT) publishOne(run.sent++);
      if (run.sent >= run.n) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(tick, 2);
    tick();
  });
}

function freshnessOf(run: Published, seenAt: Float64Array): RunStats['freshnessMs'] & { seen: number } {
  const f: number[] = [];
  for (let i = 0; i < run.n; i++) if (seenAt[i] !== 0) f.push(seenAt[i]! - run.at[i]!);
  f.sort((a, b) => a - b);
  return {
    seen: f.length,
    p50: quantile(f, 0.5),
    p95: quantile(f, 0.95),
    p99: quantile(f, 0.99),
    max: f.at(-1) ?? Number.NaN,
    mean: f.reduce((a, b) => a + b, 0) / f.length,
  };
}

const achievedRate = (run: Published) => {
  const span = (run.at[run.n - 1]! - run.at[0]!) / 1000;
  return span > 0 ? (run.n - 1) / span : Number.NaN;
};

/** Publishes `rate × seconds` events at a steady rate while polling the API for them. */
async function measure(
  serve: Serve,
  publisher: Publisher,
  label: string,
  rate: number,
  seconds: number,
): Promise<RunStats> {
  const run = newRun(label, rate, seconds);
  const { n, prefix, at: publishedAt } = run;
  const seenAt = new Float64Array(n);

  // One connection for the poller (polls never overlap), one for the rest.
  const pollAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const loadBefore = loadavg()[0]!;
  const metricsBefore = await serverCounts(agent, serve.apiUrl);
  const cpuBefore = {
    server: cpuSeconds(serve.child.pid!),
    emulator: descendantsCpuSeconds(serve.child.pid!),
    bench: process.cpuUsage(),
  };

  // Poller.
  let pointer = 0;
  let polling = true;
  let pollErrors = 0;
  let firstPollError: string | null = null;
  let maxPollRows = 0;
  const pollStarts: number[] = [];
  const pollDurations: number[] = [];
  const poll = async () => {
    while (pointer < run.sent && seenAt[pointer] !== 0) pointer++;
    const start = Date.now();
    const oldest = pointer < run.sent ? publishedAt[pointer]! : start;
    const from = new Date(Math.max(oldest, start - WINDOW_CAP_MS)).toISOString();
    pollStarts.push(start);
    try {
      const { status, text, cacheControl } = await call(
        pollAgent,
        `${serve.apiUrl}/v1/${DATASET}?fields=event_id&from=${encodeURIComponent(from)}`,
        { headers: { accept: 'application/x-ndjson' } },
      );
      const at = Date.now();
      pollDurations.push(at - start);
      if (status !== 200) throw new Error(`a poll answered ${status}: ${text.slice(0, 200)}`);
      // The method rests on reads that bypass the response cache; a cached poll would measure the TTL.
      if (cacheControl !== 'no-store') throw new Error(`a poll answered cache-control "${cacheControl}"`);
      let rows = 0;
      for (const line of text.split('\n')) {
        if (line === '') continue;
        rows++;
        const id = (JSON.parse(line) as { event_id: string }).event_id;
        if (!id.startsWith(prefix)) continue;
        const i = Number(id.slice(prefix.length));
        if (seenAt[i] === 0) seenAt[i] = at;
      }
      maxPollRows = Math.max(maxPollRows, rows);
    } catch (e) {
      pollErrors++;
      firstPollError ??= e instanceof Error ? e.message : String(e);
    }
  };
  const poller = (async () => {
    let next = Date.now();
    while (polling) {
      const wait = next - Date.now();
      if (wait > 0) await sleep(wait);
      next = Date.now() + POLL_MS;
      await poll();
    }
  })();

  await publishSteady(run, publisher, rate);
  const lastPublish = Date.now();
  while ((run.settled < n || seenAt.some((s) => s === 0)) && Date.now() < lastPublish + DRAIN_MS) {
    await sleep(POLL_MS);
  }
  polling = false;
  await poller;

  const cores = {
    server: 0,
    emulator: 0,
    bench: 0,
  };
  const wall = (Date.now() - (publishedAt[0] ?? Date.now())) / 1000;
  if (wall > 0) {
    cores.server = (cpuSeconds(serve.child.pid!) - cpuBefore.server) / wall;
    cores.emulator = (descendantsCpuSeconds(serve.child.pid!) - cpuBefore.emulator) / wall;
    const b = process.cpuUsage(cpuBefore.bench);
    cores.bench = (b.user + b.system) / 1e6 / wall;
  }

  // The whole run once more, to count what the API holds: each event must be there exactly once.
  const final = await call(
    agent,
    `${serve.apiUrl}/v1/${DATASET}?fields=event_id&from=${encodeURIComponent(new Date(publishedAt[0]!).toISOString())}`,
    { headers: { accept: 'application/x-ndjson' } },
  );
  if (final.status !== 200) throw new Error(`the final read answered ${final.status}`);
  const copies = new Uint32Array(n);
  for (const line of final.text.split('\n')) {
    if (line === '') continue;
    const id = (JSON.parse(line) as { event_id: string }).event_id;
    if (id.startsWith(prefix)) copies[Number(id.slice(prefix.length))]!++;
  }
  let lost = 0;
  let duplicated = 0;
  for (const c of copies) {
    if (c === 0) lost++;
    else duplicated += c - 1;
  }

  const { seen, ...freshnessMs } = freshnessOf(run, seenAt);
  const intervals = pollStarts
    .slice(1)
    .map((t, i) => t - pollStarts[i]!)
    .sort((a, b) => a - b);
  const durations = [...pollDurations].sort((a, b) => a - b);
  const after = await serverCounts(agent, serve.apiUrl);
  const loadAfter = loadavg()[0]!;
  pollAgent.destroy();
  agent.destroy();
  return {
    published: n,
    publishErrors: run.errors,
    firstPublishError: run.firstError,
    publishRetries: publisher.retries(),
    achievedRate: achievedRate(run),
    seen,
    freshnessMs,
    lost,
    duplicated,
    polls: pollStarts.length,
    pollErrors,
    firstPollError,
    pollIntervalMs: {
      p50: quantile(intervals, 0.5),
      p99: quantile(intervals, 0.99),
      max: intervals.at(-1) ?? Number.NaN,
    },
    pollResponseMs: { p50: quantile(durations, 0.5), p99: quantile(durations, 0.99) },
    maxPollRows,
    ingest: Object.fromEntries(
      Object.entries(after.outcomes).map(([k, v]) => [k, v - (metricsBefore.outcomes[k] ?? 0)]),
    ),
    storedWithinS: {
      p50: bucketQuantile(metricsBefore, after, 0.5),
      p99: bucketQuantile(metricsBefore, after, 0.99),
    },
    loadAvg: [loadBefore, loadAfter],
    cores,
  };
}

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return v;
}

interface FloorStats {
  published: number;
  publishErrors: number;
  firstPublishError: string | null;
  achievedRate: number;
  seen: number;
  freshnessMs: RunStats['freshnessMs'];
  lost: number;
  /** Messages received more than once (the subscriber acknowledges each at once: expected 0). */
  duplicated: number;
  subscriberErrors: number;
  cores: { server: number; emulator: number; bench: number };
  loadAvg: [number, number];
}

/**
 * The emulator's own share: the same publisher and rate, received by a streaming-pull subscriber
 * (same flow control as ducto's bridge) that acknowledges each message at once; no ducto, no API.
 */
async function measureEmulatorFloor(o: BenchOptions, rate: number, seconds: number): Promise<FloorStats> {
  const emulator = await startEmulator({ host: '127.0.0.1', port: await freePort(), project: PROJECT });
  const pubsub = new PubSub(emulatorClientConfig(emulator.host, PROJECT));
  let publisher: Publisher | null = null;
  let subscription: ReturnType<PubSub['subscription']> | null = null;
  try {
    await pubsub.createTopic(DATASET);
    await pubsub.topic(DATASET).createSubscription(`${DATASET}-floor`, { ackDeadlineSeconds: 60 });
    let current: { run: Published; seenAt: Float64Array; copies: Uint32Array } | null = null;
    let subscriberErrors = 0;
    subscription = pubsub.subscription(`${DATASET}-floor`, {
      flowControl: { maxMessages: 1000, allowExcessMessages: false },
    });
    subscription.on('message', (m: Message) => {
      const at = Date.now();
      m.ack();
      const c = current;
      const id = m.attributes.event_id ?? '';
      if (!c || !id.startsWith(c.run.prefix)) return;
      const i = Number(id.slice(c.run.prefix.length));
      c.copies[i]!++;
      if (c.seenAt[i] === 0) c.seenAt[i] = at;
    });
    subscription.on('error', () => subscriberErrors++);
    publisher = pubsubPublisher(emulator.host);
    const one = async (label: string, secs: number): Promise<FloorStats> => {
      const run = newRun(label, rate, secs);
      const c = { run, seenAt: new Float64Array(run.n), copies: new Uint32Array(run.n) };
      current = c;
      const loadBefore = loadavg()[0]!;
      const cpuBefore = { emulator: descendantsCpuSeconds(process.pid), bench: process.cpuUsage() };
      await publishSteady(run, publisher!, rate);
      const end = Date.now();
      while ((run.settled < run.n || c.seenAt.some((x) => x === 0)) && Date.now() < end + DRAIN_MS) {
        await sleep(POLL_MS);
      }
      const wall = (Date.now() - run.at[0]!) / 1000;
      const bench = process.cpuUsage(cpuBefore.bench);
      const { seen, ...freshnessMs } = freshnessOf(run, c.seenAt);
      let lost = 0;
      let duplicated = 0;
      for (const k of c.copies) {
        if (k === 0) lost++;
        else duplicated += k - 1;
      }
      return {
        published: run.n,
        publishErrors: run.errors,
        firstPublishError: run.firstError,
        achievedRate: achievedRate(run),
        seen,
        freshnessMs,
        lost,
        duplicated,
        subscriberErrors,
        cores: {
          server: 0,
          emulator: (descendantsCpuSeconds(process.pid) - cpuBefore.emulator) / wall,
          bench: (bench.user + bench.system) / 1e6 / wall,
        },
        loadAvg: [loadBefore, loadavg()[0]!],
      };
    };
    await one('floor-warm', o.warmupS);
    console.log(`  freshness floor: measuring ${seconds} s at ${rate} msg/s`);
    return await one('floor', seconds);
  } finally {
    await subscription?.close();
    await publisher?.close();
    await pubsub.close();
    await emulator.stop();
  }
}

export async function freshnessScenario(o: BenchOptions): Promise<ScenarioResult> {
  const rate = envNumber('BENCH_FRESHNESS_RATE', o.quick ? 1_000 : 2_000);
  const seconds = envNumber('BENCH_FRESHNESS_SECONDS', o.quick ? 5 : 30);
  const errors: string[] = [];
  const goals: Goal[] = [];
  const subjects: Array<{ kind: Kind; label: string }> = [
    { kind: 'pull', label: 'emulator + pull delivery (ducto serve --pubsub=emulator --delivery=pull)' },
    { kind: 'direct', label: 'baseline: direct push, no broker (POSTed push envelopes)' },
  ];
  const skipped: string[] = [];
  if (findEmulatorLauncher() === null) {
    skipped.push('emulator + pull: skipped, the gcloud Pub/Sub emulator is not installed');
    console.log(`  freshness: ${skipped[0]}`);
    subjects.shift();
  }

  const results: Partial<Record<Kind, RunStats & { label: string }>> = {};
  let floor: (FloorStats & { label: string }) | null = null;
  for (const s of subjects) {
    if (s.kind === 'direct' && subjects[0]!.kind === 'pull') {
      // Between the two stacks: the emulator alone, at the same rate.
      floor = {
        label: 'emulator alone: publish → streaming-pull subscriber, ack at once (no ducto, no API)',
        ...(await measureEmulatorFloor(o, rate, seconds)),
      };
      if (floor.publishErrors > 0 || floor.lost > 0 || floor.subscriberErrors > 0)
        errors.push(
          `freshness floor: ${floor.publishErrors} publishes failed (${floor.firstPublishError}), ${floor.lost} never received, ${floor.subscriberErrors} subscriber errors`,
        );
    }
    const serve = await startServe(s.kind, o, { name: 'freshness' });
    let publisher: Publisher | null = null;
    try {
      publisher = s.kind === 'pull' ? pubsubPublisher(serve.emulatorHost!) : pushPublisher(serve.ingestUrl);
      // Unmeasured warm-up at the same rate (JIT of the server and of the emulator's JVM).
      const warm = await measure(serve, publisher, `${s.kind}-warm`, rate, o.warmupS);
      if (warm.publishErrors > 0)
        errors.push(
          `freshness ${s.kind} warm-up: ${warm.publishErrors} publishes failed (${warm.firstPublishError})`,
        );
      console.log(`  freshness ${s.kind}: measuring ${seconds} s at ${rate} msg/s`);
      const r = await measure(serve, publisher, s.kind, rate, seconds);
      results[s.kind] = { label: s.label, ...r };
      if (r.publishErrors > 0)
        errors.push(`freshness ${s.kind}: ${r.publishErrors} publishes failed (${r.firstPublishError})`);
      if (r.lost > 0)
        errors.push(`freshness ${s.kind}: ${r.lost} of ${r.published} events never visible in the API`);
      if (r.duplicated > 0) errors.push(`freshness ${s.kind}: ${r.duplicated} events visible more than once`);
      if (r.pollErrors > 0)
        errors.push(`freshness ${s.kind}: ${r.pollErrors} API polls failed (${r.firstPollError})`);
    } finally {
      await publisher?.close();
      await serve.stop();
    }
  }

  const pull = results.pull;
  const direct = results.direct;
  if (pull) {
    goals.push(
      goal(
        'freshness',
        'p99 freshness, publish → API, emulator + pull (s)',
        pull.freshnessMs.p99 / 1000,
        '<=',
        1,
        ' s',
      ),
      goal(
        'freshness',
        'publish rate held (emulator + pull, msg/s)',
        pull.achievedRate,
        '>=',
        rate * 0.98,
        '',
      ),
      goal('freshness', 'events lost (emulator + pull)', pull.lost, '<=', 0, ''),
      goal('freshness', 'events duplicated in the API (emulator + pull)', pull.duplicated, '<=', 0, ''),
    );
  }
  const ratio = pull && direct ? pull.freshnessMs.p99 / direct.freshnessMs.p99 : null;

  const ordered = [results.pull, floor, results.direct].filter((r) => r !== undefined && r !== null);
  const rows = ordered.map((r) => [
    r.label,
    r.achievedRate,
    r.freshnessMs.p50,
    r.freshnessMs.p95,
    r.freshnessMs.p99,
    r.freshnessMs.max,
    `${r.lost}/${r.duplicated}`,
    r.cores.server,
    r.cores.emulator,
    r.cores.bench,
  ]);
  const text = [
    `Freshness: publish → visible through GET /v1/${DATASET} (NDJSON, not cached), ${rate} msg/s for ${seconds} s ` +
      `after a ${o.warmupS} s warm-up; polls every ${POLL_MS} ms`,
    table(
      [
        'path',
        'msg/s',
        'p50 ms',
        'p95 ms',
        'p99 ms',
        'max ms',
        'lost/dup',
        'serve CPU',
        'emulator CPU',
        'bench CPU',
      ],
      rows,
    ),
    ...(Object.entries(results) as Array<[Kind, RunStats & { label: string }]>).map(
      ([k, r]) =>
        `${k}: ${r.published} published (${r.publishRetries} push retries), ${r.seen} seen; ` +
        `polls ${r.polls}, interval p50 ${r.pollIntervalMs.p50} ms / p99 ${r.pollIntervalMs.p99} ms, ` +
        `response p50 ${r.pollResponseMs.p50} ms / p99 ${r.pollResponseMs.p99} ms, largest poll ${r.maxPollRows} rows; ` +
        `ingest outcomes ${JSON.stringify(r.ingest)}; server: publish → durable write ≤ ${r.storedWithinS.p50} s for 50%, ≤ ${r.storedWithinS.p99} s for 99% (histogram bounds); ` +
        `load average ${r.loadAvg[0].toFixed(1)} → ${r.loadAvg[1].toFixed(1)} on ${availableParallelism()} CPUs`,
    ),
    'freshness = first poll response holding the event − publish call: an upper bound, at most one poll interval + one poll response above the true value',
    'polls read the warehouse (NDJSON answers cache-control: no-store, checked on every poll); a JSON list request repeated within ' +
      'DUCTO_CACHE_TTL_MS (5 s by default) is answered from the response cache and can be that much older',
    ...(floor
      ? [
          `floor: ${floor.published} published, ${floor.seen} received, ${floor.duplicated} received twice; ` +
            `load average ${floor.loadAvg[0].toFixed(1)} → ${floor.loadAvg[1].toFixed(1)}`,
        ]
      : []),
    ...(ratio !== null ? [`p99 emulator + pull ÷ p99 direct push: ${ratio.toFixed(2)}×`] : []),
    ...(pull && floor
      ? [
          `p99 emulator alone ÷ p99 emulator + pull: ${(floor.freshnessMs.p99 / pull.freshnessMs.p99).toFixed(2)}`,
        ]
      : []),
    ...skipped,
  ].join('\n');

  return {
    data: {
      rate,
      seconds,
      pollMs: POLL_MS,
      results: { ...results, ...(floor ? { emulatorAlone: floor } : {}) },
      ratioP99PullToDirect: ratio,
      ratioP99EmulatorAloneToPull: pull && floor ? floor.freshnessMs.p99 / pull.freshnessMs.p99 : null,
      skipped,
    },
    goals,
    errors,
    text,
  };
}
