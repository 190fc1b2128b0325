/** The emulator alone: the same publisher and rate, received by a subscriber that acknowledges at once. */
import { loadavg } from 'node:os';
import { type Message, PubSub } from '@google-cloud/pubsub';
import { emulatorClientConfig, startEmulator } from '../../src/pubsub/emulator.ts';
import { freePort } from '../../support/proc.ts';
import type { BenchOptions } from '../options.ts';
import { DATASET, descendantsCpuSeconds, type EventSender, PROJECT, pubsubSender } from '../stack.ts';
import { DRAIN_MS, POLL_MS } from './constants.ts';
import { type RunStats, sleep } from './measure.ts';
import { achievedRate, type FreshnessRun, freshnessOf, newRun, publishSteady } from './publish.ts';

export interface FloorStats {
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
export async function measureEmulatorFloor(
  o: BenchOptions,
  rate: number,
  seconds: number,
): Promise<FloorStats> {
  const emulator = await startEmulator({ host: '127.0.0.1', port: await freePort(), project: PROJECT });
  const pubsub = new PubSub(emulatorClientConfig(emulator.host, PROJECT));
  let publisher: EventSender | null = null;
  let subscription: ReturnType<PubSub['subscription']> | null = null;
  try {
    await pubsub.createTopic(DATASET);
    await pubsub.topic(DATASET).createSubscription(`${DATASET}-floor`, { ackDeadlineSeconds: 60 });
    let current: { run: FreshnessRun; seenAt: Float64Array; copies: Uint32Array } | null = null;
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
    publisher = pubsubSender(emulator.host);
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
