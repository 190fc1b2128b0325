/**
 * `ducto serve` as the freshness and fault scenarios run it: a child process (which runs the Pub/Sub
 * emulator as its own child) started by support/serve.ts, with the helpers that publish to it and read
 * its /metrics.
 */
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Agent } from 'node:http';
import { join } from 'node:path';
import { PubSub } from '@google-cloud/pubsub';
import { emulatorClientConfig, isEmulatorUp } from '../src/pubsub/emulator.ts';
import { httpRequest, textOf } from '../support/http.ts';
import { cpuSeconds, freePort } from '../support/proc.ts';
import { startServe } from '../support/serve.ts';
import type { BenchOptions } from './options.ts';

export const DATASET = 'flights';
export const PROJECT = 'ducto-bench';

/**
 * How events reach the stack: Pub/Sub emulator with streaming pull, the emulator with push (as Pub/Sub
 * delivers in the cloud), or POSTed straight to the ingest endpoint (no broker).
 */
export type Kind = 'pull' | 'push' | 'direct';

export interface ScenarioServe {
  child: ChildProcess;
  apiUrl: string;
  ingestUrl: string;
  emulatorHost: string | null;
  stop(): Promise<void>;
}

export interface ScenarioServeOptions {
  /** Part of the database file's name. */
  name?: string;
  /** Environment over the defaults (e.g. DUCTO_FAULTS). */
  env?: Record<string, string>;
  /** Flags after `serve` (e.g. --allow-faults). */
  args?: string[];
}

/** CPU seconds of every descendant of `pid` (the emulator's shell, watchdog and JVM). */
export function descendantsCpuSeconds(pid: number): number {
  const parent = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  let total = 0;
  for (const p of parent.keys()) {
    let q: number | undefined = parent.get(p);
    while (q !== undefined && q > 1 && q !== pid) q = parent.get(q);
    if (q !== pid) continue;
    try {
      total += cpuSeconds(p);
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

export async function startScenarioServe(
  kind: Kind,
  o: BenchOptions,
  options: ScenarioServeOptions = {},
): Promise<ScenarioServe> {
  const emulatorHost = kind === 'direct' ? null : `127.0.0.1:${await freePort()}`;
  const serve = await startServe({
    args: [
      '--no-seed',
      `--db=${join(o.tmp, `${options.name ?? 'serve'}-${kind}-${Date.now()}.duckdb`)}`,
      ...(kind === 'direct' ? ['--pubsub=direct'] : ['--pubsub=emulator', `--delivery=${kind}`]),
      ...(options.args ?? []),
    ],
    cpus: o.serverCpus,
    env: {
      GOOGLE_CLOUD_PROJECT: PROJECT,
      ...(emulatorHost ? { PUBSUB_EMULATOR_HOST: emulatorHost } : {}),
      ...options.env,
    },
  });
  let stopped: Promise<void> | null = null;
  return {
    child: serve.child,
    apiUrl: serve.apiUrl,
    ingestUrl: serve.ingestUrl,
    emulatorHost,
    stop: () => {
      stopped ??= (async () => {
        await serve.stop();
        // `ducto serve` stops the emulator it started; one still answering is an orphan.
        if (emulatorHost && (await isEmulatorUp(emulatorHost, 500))) {
          throw new Error(`the emulator at ${emulatorHost} still answers after ducto serve stopped`);
        }
      })();
      return stopped;
    },
  };
}

/** What the stack's /metrics says about ingest. */
export interface ServerCounts {
  /** `ducto_ingest_messages_total` summed by outcome. */
  outcomes: Record<string, number>;
  /** `ducto_ingest_e2e_latency_seconds` cumulative buckets (upper bound in s → count). */
  latency: Map<number, number>;
}

export async function serverCounts(agent: Agent, apiUrl: string): Promise<ServerCounts> {
  const text = textOf(await httpRequest(`${apiUrl}/metrics`, {}, agent));
  const outcomes: Record<string, number> = {};
  for (const m of text.matchAll(/^ducto_ingest_messages_total\{([^}]*)\} (\S+)$/gm)) {
    const outcome = /outcome="([^"]*)"/.exec(m[1]!)?.[1] ?? '';
    outcomes[outcome] = (outcomes[outcome] ?? 0) + Number(m[2]);
  }
  const latency = new Map<number, number>();
  for (const m of text.matchAll(
    /^ducto_ingest_e2e_latency_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\} (\S+)$/gm,
  )) {
    const le = m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1]);
    latency.set(le, (latency.get(le) ?? 0) + Number(m[2]));
  }
  return { outcomes, latency };
}

export type Send = (id: string, data: Buffer, publishedAtMs: number) => Promise<void>;

export interface EventSender {
  send: Send;
  retries(): number;
  close(): Promise<void>;
}

export function pubsubSender(emulatorHost: string): EventSender {
  const pubsub = new PubSub(emulatorClientConfig(emulatorHost, PROJECT));
  const topic = pubsub.topic(DATASET, { batching: { maxMessages: 100, maxMilliseconds: 10 } });
  return {
    send: async (id, data) => {
      await topic.publishMessage({ data, attributes: { event_id: id, dataset: DATASET } });
    },
    retries: () => 0,
    close: () => pubsub.close(),
  };
}
