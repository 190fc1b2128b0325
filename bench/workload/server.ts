/** The server under load: its own `ducto serve`, or one already running; its CPU and memory trend. */

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuSeconds, freePort } from '../../support/proc.ts';
import { ROOT } from '../child.ts';
import { median } from '../stats.ts';
import { DATASET } from './constants.ts';
import { iso } from './flights.ts';
import { assertLoopback, expectStatus, request } from './http.ts';
import { round } from './op-stats.ts';
import type { MemoryTrend } from './types.ts';

// ---------------------------------------------------------------------------------------------
// The stack

export interface Stack {
  apiUrl: URL;
  ingestUrl: URL;
  pid: number | null;
  own: boolean;
  /** Why the stack is gone, or null while it runs (own stack only). */
  died(): string | null;
  stop(): Promise<void>;
}

/** `ducto serve --pubsub=direct --no-seed` on free loopback ports with a scratch DuckDB file. */
export async function startWorkloadServer(): Promise<Stack> {
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

export function externalStack(apiUrl: string, ingestUrl: string, pid: number | undefined): Stack {
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
  const reply = await request(agent, new URL(`/v1/${DATASET}/stats?from=${from}`, apiUrl), 'GET', {});
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
