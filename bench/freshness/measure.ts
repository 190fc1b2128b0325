/** One freshness measurement: publish, poll the API until every event shows, and summarise. */

import { Agent } from 'node:http';
import { loadavg } from 'node:os';
import { httpRequest, textOf } from '../../support/http.ts';
import { cpuSeconds } from '../../support/proc.ts';
import {
  DATASET,
  descendantsCpuSeconds,
  type EventSender,
  type ScenarioServe,
  type ServerCounts,
  serverCounts,
} from '../stack.ts';
import { quantile } from '../stats.ts';

import { DRAIN_MS, POLL_MS, WINDOW_CAP_MS } from './constants.ts';
import { achievedRate, freshnessOf, newRun, publishSteady } from './publish.ts';

export interface RunStats {
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

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The smallest bucket bound holding the share `q` of the events counted between two scrapes. */
export function bucketQuantile(before: ServerCounts, after: ServerCounts, q: number): number {
  const bounds = [...after.latency.keys()].sort((a, b) => a - b);
  const delta = (le: number) => (after.latency.get(le) ?? 0) - (before.latency.get(le) ?? 0);
  const total = delta(Number.POSITIVE_INFINITY);
  if (total === 0) return Number.NaN;
  return bounds.find((le) => delta(le) >= q * total) ?? Number.NaN;
}

/** Publishes `rate × seconds` events at a steady rate while polling the API for them. */
export async function measure(
  serve: ScenarioServe,
  publisher: EventSender,
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
      const reply = await httpRequest(
        `${serve.apiUrl}/v1/${DATASET}?fields=event_id&from=${encodeURIComponent(from)}`,
        { headers: { accept: 'application/x-ndjson' } },
        pollAgent,
      );
      const { status } = reply;
      const text = textOf(reply);
      const cacheControl = String(reply.headers['cache-control'] ?? '');
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
  const final = await httpRequest(
    `${serve.apiUrl}/v1/${DATASET}?fields=event_id&from=${encodeURIComponent(new Date(publishedAt[0]!).toISOString())}`,
    { headers: { accept: 'application/x-ndjson' } },
    agent,
  );
  if (final.status !== 200) throw new Error(`the final read answered ${final.status}`);
  const copies = new Uint32Array(n);
  for (const line of textOf(final).split('\n')) {
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
