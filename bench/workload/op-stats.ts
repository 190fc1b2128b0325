/** Per-operation counters and latency histograms, in total and per reporting window. */

import { createRequire } from 'node:module';
import type { Histogram } from 'hdr-histogram-js';
import type { LatencySummary, PublisherReport } from './types.ts';

// hdr-histogram-js comes with autocannon (a dev dependency); loaded as CommonJS, as load.ts does.
const hdr = createRequire(import.meta.url)('hdr-histogram-js') as typeof import('hdr-histogram-js');

// ---------------------------------------------------------------------------------------------
// Measurements

export const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

export class OpStats {
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
export class Window {
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
