/** The options and reports of `npm run load`. */

import type { Operation } from './operations.ts';

// ---------------------------------------------------------------------------------------------
// Options and report

export interface FindMaxOptions {
  /** Rate of the first step, messages per second. */
  startRate: number;
  /** Seconds per step. */
  stepS: number;
  /** Rate multiplier while no step has failed. */
  factor: number;
  /** The probe never offers more than this. */
  maxRate: number;
  /** Steps at most (ramp and refinement). */
  maxSteps: number;
}

export interface WorkloadOptions {
  /** Seconds of the steady (soak) phase. */
  durationS: number;
  /** Publish rate of the steady phase, messages per second, when there is no probe. */
  rate: number;
  /** Concurrent API consumers. */
  consumers: number;
  /** Publish requests in flight at most (including messages waiting for a retry). */
  inFlight: number;
  /** Probe for the highest sustained rate first; the soak then runs at soakFraction × that. */
  findMax?: FindMaxOptions | null;
  /** With findMax: soak rate as a fraction of the maximum; 0 = probe only. */
  soakFraction?: number;
  /** An already-running stack (both, or neither: then a `ducto serve` child is started). */
  apiUrl?: string;
  ingestUrl?: string;
  /** Server process to sample RSS and CPU of, for an already-running stack. */
  pid?: number;
  /** The consumers' operation mix (default: DEFAULT_OPERATIONS). */
  operations?: Operation[];
  /** A progress bar on stderr (the CLI shows it on a TTY only). */
  progress?: boolean;
  /** Status lines while running (default: none). */
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export interface LatencySummary {
  count: number;
  perS: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  /** Errors by `<status> <code>`, `transport <code>`, `timeout` or `mismatch <what>`. */
  errorsBy: Record<string, number>;
}

export interface PublisherReport {
  /** Messages the schedule called for. */
  scheduled: number;
  /** Messages sent (first attempts). */
  sent: number;
  /** Messages acknowledged (2xx). */
  acked: number;
  ackedPerS: number;
  /** Non-2xx answers (each one is retried, as Pub/Sub redelivers), by `<status> <code>`. */
  rejectedBy: Record<string, number>;
  status429: number;
  status5xx: number;
  /** Requests with no answer (reset, refused, timed out), by code; retried as well. */
  transportErrors: number;
  transportBy: Record<string, number>;
  /** Messages still unacknowledged after every attempt (a push subscription would dead-letter them). */
  failed: number;
  /** Scheduled but never sent when the phase ended: the publisher was behind its schedule. */
  unsent: number;
  latency: LatencySummary;
}

export interface PhaseReport {
  name: string;
  targetRate: number;
  durationS: number;
  publish: PublisherReport;
  operations: Record<string, LatencySummary>;
  /** Errors of every operation and of the publisher. */
  errors: number;
  /** Sent ≥ KEEP_UP × scheduled, and everything sent was acknowledged once the phase settled. */
  keptUp: boolean;
  serverCores: number | null;
  clientCores: number;
}

export interface ProbeStep {
  rate: number;
  /** Scheduled but never sent when the step ended. */
  unsent: number;
  /** A repeat of a step that failed: one failure may be another process's burst on a shared machine. */
  repeat: boolean;
  scheduled: number;
  ackedInStep: number;
  ackedPerS: number;
  publishErrors: number;
  consumerErrors: number;
  publishP99Ms: number;
  /** Consumer requests per second over the step. */
  consumerOpsPerS: number;
  operations: Record<string, LatencySummary>;
  sustained: boolean;
  why: string | null;
}

export interface MemoryTrend {
  samples: number;
  firstMinuteMedianMb: number;
  lastMinuteMedianMb: number;
  /** Least-squares slope over the second half of the phase, MB per minute. */
  slopeMbPerMin: number | null;
  maxMb: number;
}

export interface WorkloadReport {
  version: string;
  startedAt: string;
  finishedAt: string;
  machine: { cpus: number; model: string | null; node: string; loadavgStart: number[]; loadavgEnd: number[] };
  target: { ownStack: boolean; apiUrl: string; ingestUrl: string; sampledPid: number | null };
  options: Omit<WorkloadOptions, 'operations' | 'log' | 'signal' | 'progress'> & { operations: string[] };
  env: Record<string, string>;
  probe: { steps: ProbeStep[]; maxRate: number; soakRate: number | null } | null;
  soak: PhaseReport | null;
  exactlyOnce: { baseline: number; stored: number; acked: number; equal: boolean } | null;
  memory: MemoryTrend | null;
  /** One sample per second: [seconds since start, phase, RSS MB, server cores, client cores]. */
  samples: Array<[number, string, number | null, number | null, number]>;
  failures: string[];
  ok: boolean;
}
