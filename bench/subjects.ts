import { peakRssMb } from '../support/proc.ts';
import type { ServerChild } from './child.ts';
import type { LoadResult } from './load.ts';
import { median } from './stats.ts';

/** A server under test and its measured runs. */
export interface Subject {
  name: string;
  label: string;
  server: ServerChild;
  runs: LoadResult[];
}

/** Medians of a subject's runs (errors summed), and its peak memory. */
export interface RunSummary {
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  serverCores: number;
  clientCores: number;
  peakRssMb: number;
}

/**
 * Every subject's summary, its rate under `rateKey` (`rps` for requests, `msgsPerS` for messages):
 * the figures latest.json keeps.
 */
export function summarizeRuns<K extends string>(
  subjects: Subject[],
  rateKey: K,
): Record<string, RunSummary & Record<K, number>> {
  return Object.fromEntries(
    subjects.map((s) => [
      s.name,
      {
        [rateKey]: median(s.runs.map((r) => r.rps)),
        p50Ms: median(s.runs.map((r) => r.p50Ms)),
        p99Ms: median(s.runs.map((r) => r.p99Ms)),
        non2xx: s.runs.reduce((n, r) => n + r.non2xx + r.errors, 0),
        serverCores: median(s.runs.map((r) => r.serverCores)),
        clientCores: median(s.runs.map((r) => r.clientCores)),
        peakRssMb: peakRssMb(s.server.pid),
      } as RunSummary & Record<K, number>,
    ]),
  );
}

/**
 * Runs every subject `rounds` times, alternated and rotated so that no subject always runs first
 * (or right after the slow one): the machine's drift spreads over all of them alike.
 */
export async function alternate(
  subjects: Subject[],
  rounds: number,
  measure: (s: Subject, round: number) => Promise<void>,
): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < subjects.length; k++) await measure(subjects[(round + k) % subjects.length]!, round);
  }
}
