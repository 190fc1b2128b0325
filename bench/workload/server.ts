/** The server under load: its own `ducto serve`, or one already running; its CPU and memory trend. */

import { mkdtempSync, rmSync } from 'node:fs';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpRequest } from '../../support/http.ts';
import { cpuSeconds } from '../../support/proc.ts';
import { type ServeProcess, startServe } from '../../support/serve.ts';
import { median } from '../stats.ts';
import { DATASET, REQUEST_TIMEOUT_MS } from './constants.ts';
import { iso } from './flights.ts';
import { assertLoopback, expectStatus } from './http.ts';
import { round } from './op-stats.ts';
import type { MemoryTrend } from './types.ts';

// ---------------------------------------------------------------------------------------------
// The stack

export interface LoadTarget {
  apiUrl: URL;
  ingestUrl: URL;
  pid: number | null;
  own: boolean;
  /** Why the stack is gone, or null while it runs (own stack only). */
  died(): string | null;
  stop(): Promise<void>;
}

/** `ducto serve --pubsub=direct --no-seed` (support/serve.ts) with a scratch DuckDB file. */
export async function startWorkloadServer(): Promise<LoadTarget> {
  const tmp = mkdtempSync(join(tmpdir(), 'ducto-load-'));
  const cleanup = () => rmSync(tmp, { recursive: true, force: true });
  let serve: ServeProcess;
  try {
    serve = await startServe({
      args: ['--pubsub=direct', '--no-seed', '--db', join(tmp, 'load.duckdb')],
      env: { HOST: '127.0.0.1', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
      readyTimeoutMs: 60_000,
    });
  } catch (e) {
    cleanup();
    throw e;
  }
  return {
    apiUrl: new URL(serve.apiUrl),
    ingestUrl: new URL(`${serve.ingestUrl}/`),
    pid: serve.child.pid ?? null,
    own: true,
    died: () => serve.died(),
    async stop() {
      await serve.stop('SIGTERM', 10_000);
      cleanup();
    },
  };
}

export function externalStack(apiUrl: string, ingestUrl: string, pid: number | undefined): LoadTarget {
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
export async function storedCount(agent: http.Agent, apiUrl: URL): Promise<number> {
  const from = iso((Date.now() % 1_000_000_000) + countSeq++);
  const reply = await httpRequest(
    new URL(`/v1/${DATASET}/stats?from=${from}`, apiUrl),
    { timeoutMs: REQUEST_TIMEOUT_MS },
    agent,
  );
  const body = expectStatus(reply) as { data?: Array<{ count?: unknown }> };
  const count = body.data?.[0]?.count;
  if (typeof count !== 'number')
    throw new Error(`stats answered no count: ${reply.body.toString().slice(0, 200)}`);
  return count;
}

export function serverCpu(pid: number | null): number | null {
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
