/** Publishing at a steady rate, by Pub/Sub or by POSTed push envelopes, with each event's publish time kept. */

import { randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import { encodePushEnvelope } from '../../src/core/delivery.ts';
import { httpRequest } from '../../support/http.ts';
import { DATASET, type EventSender, PROJECT } from '../stack.ts';
import { quantile } from '../stats.ts';

import { MAX_IN_FLIGHT } from './constants.ts';
import { type RunStats, sleep } from './measure.ts';

/** What Pub/Sub push does without a broker: POST the envelope, retry a 429/503 after a pause. */
export function pushSender(ingestUrl: string): EventSender {
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
        const res = await httpRequest(
          url,
          { method: 'POST', headers: { 'content-type': 'application/json' }, body },
          agent,
        );
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
export interface FreshnessRun {
  n: number;
  prefix: string;
  /** Publish call time of event i (epoch ms); its time field holds the same instant. */
  at: Float64Array;
  sent: number;
  settled: number;
  errors: number;
  firstError: string | null;
}

export function newRun(label: string, rate: number, seconds: number): FreshnessRun {
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
export async function publishSteady(run: FreshnessRun, publisher: EventSender, rate: number): Promise<void> {
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

export function freshnessOf(
  run: FreshnessRun,
  seenAt: Float64Array,
): RunStats['freshnessMs'] & { seen: number } {
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

export const achievedRate = (run: FreshnessRun) => {
  const span = (run.at[run.n - 1]! - run.at[0]!) / 1000;
  return span > 0 ? (run.n - 1) / span : Number.NaN;
};
