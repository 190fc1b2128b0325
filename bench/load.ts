import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { encodePushEnvelope } from '../src/core/delivery.ts';
import { cpuSeconds } from '../support/proc.ts';
import { ROOT } from '../support/root.ts';
import { ensureWrk, wrkLoad } from './wrk.ts';

/** The part of autocannon's programmatic API the bench uses (the package ships no types). */
interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}
interface AutocannonOptions {
  url: string;
  connections: number;
  duration: number;
  method?: string;
  headers?: Record<string, string>;
  requests?: Array<AutocannonRequest & { setupRequest?: (r: AutocannonRequest) => AutocannonRequest }>;
}
interface AutocannonResult {
  duration: number;
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodeStats: Record<string, { count: number }>;
  latency: { p50: number; p99: number; average: number; max: number };
}
const autocannon = createRequire(import.meta.url)('autocannon') as (
  options: AutocannonOptions,
) => Promise<AutocannonResult>;

export interface LoadResult {
  /** 2xx responses per second over the run. */
  rps: number;
  ok: number;
  non2xx: number;
  errors: number;
  statuses: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  /** CPU the server used over the run, in cores (1 = one core busy all the time). */
  serverCores: number;
  /** CPU the load generator used over the run, in cores (wrk's process, or this one for autocannon). */
  clientCores: number;
  durationS: number;
  /** What made the load: wrk (C, a fraction of a core) or autocannon (Node) where wrk is missing. */
  generator: 'wrk' | 'autocannon';
}

/** Request bodies: templates joined with a distinct id per request (`<prefix>-…`). */
export interface Bodies {
  templates: string[][];
  prefix: string;
}

export interface LoadOptions {
  url: string;
  connections: number;
  durationS: number;
  serverPid: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  bodies?: Bodies;
}

/** One bounded run against a local server, by wrk where it is installed (see bench/wrk.ts). */
export async function load(options: LoadOptions): Promise<LoadResult> {
  if (ensureWrk()) return wrkLoad(options);
  return autocannonLoad(options);
}

/** One bounded autocannon run against a local server, with the CPU both sides spent on it. */
async function autocannonLoad(options: LoadOptions): Promise<LoadResult> {
  const url = new URL(options.url);
  if (url.hostname !== '127.0.0.1') throw new Error(`the bench only loads 127.0.0.1, not ${url.hostname}`);
  const body = options.bodies && bodySource(options.bodies);
  const serverCpu = cpuSeconds(options.serverPid);
  const clientCpu = process.cpuUsage();
  const wall = performance.now();
  const r = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationS,
    method: options.method ?? 'GET',
    headers: options.headers ?? {},
    ...(body && {
      requests: [
        {
          setupRequest: (req) => {
            req.body = body();
            return req;
          },
        },
      ],
    }),
  });
  const elapsed = (performance.now() - wall) / 1000;
  const client = process.cpuUsage(clientCpu);
  return {
    rps: r['2xx'] / r.duration,
    ok: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors,
    statuses: Object.fromEntries(Object.entries(r.statusCodeStats).map(([s, v]) => [s, v.count])),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    serverCores: (cpuSeconds(options.serverPid) - serverCpu) / elapsed,
    clientCores: (client.user + client.system) / 1e6 / elapsed,
    durationS: r.duration,
    generator: 'autocannon',
  };
}

/** The next body of a template set, each with a distinct id. */
function bodySource({ templates, prefix }: Bodies): () => string {
  let n = 0;
  return () => {
    const i = n++;
    return templates[i % templates.length]!.join(`${prefix}-${i}`);
  };
}

type Flight = { date: string; delay: number; distance: number; origin: string; destination: string };

export function flights10k(): Flight[] {
  return JSON.parse(
    readFileSync(join(ROOT, 'node_modules/vega-datasets/data/flights-10k.json'), 'utf8'),
  ) as Flight[];
}

/**
 * Push envelopes of real flights records, made once by ducto's own encoder around a placeholder
 * where the event_id (and message id) go: joined with an id, each is a distinct message, and a
 * request costs the load generator a string join, not an encode.
 */
export function pushTemplates(): string[][] {
  const HOLE = '\u0000';
  const published = new Date();
  const templates = flights10k().map((record) =>
    encodePushEnvelope(
      JSON.stringify(record),
      HOLE,
      { dataset: 'flights', event_id: HOLE },
      'projects/ducto-local/subscriptions/flights-ingest',
      published,
    ).split(JSON.stringify(HOLE).slice(1, -1)),
  );
  return templates;
}

/** Push envelopes with distinct event ids, one per call (for in-process loads). */
export function pushBodies(prefix: string): () => string {
  return bodySource({ templates: pushTemplates(), prefix });
}
