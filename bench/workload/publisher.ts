/** The publisher: push envelopes at a scheduled rate, with at most `inFlight` outstanding. */

import type http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodePushEnvelope } from '../../src/core/delivery.ts';
import { httpRequest, TransportError } from '../../support/http.ts';
import { DATASET, MAX_ATTEMPTS, REQUEST_TIMEOUT_MS } from './constants.ts';
import type { Flight, Published } from './flights.ts';
import { statusKey } from './http.ts';
import type { Window } from './op-stats.ts';

// ---------------------------------------------------------------------------------------------
// Publisher

/**
 * Sends push envelopes on a schedule (rate × elapsed time, so a late timer never lowers the rate),
 * with at most `maxInFlight` requests outstanding. A non-2xx answer or a transport error is retried
 * with backoff, as a push subscription redelivers; after MAX_ATTEMPTS the message counts as failed.
 */
export class Publisher {
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
          const reply = await httpRequest(
            this.url,
            {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body,
              timeoutMs: REQUEST_TIMEOUT_MS,
            },
            this.agent,
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
          const key = e instanceof TransportError ? e.key : `transport ${String(e)}`;
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
export function envelopeTemplates(flights: Flight[]): string[][] {
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
