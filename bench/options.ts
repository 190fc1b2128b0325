import type { Goal } from './report.ts';

export interface BenchOptions {
  quick: boolean;
  /** Seconds per measured load run. */
  durationS: number;
  /** Seconds of unmeasured load before the first run, per server (JIT, caches, connections). */
  warmupS: number;
  /** Measured runs per server; figures are their medians. */
  runs: number;
  /** Rows of flights-3m.parquet the pages scenario loads. */
  rows: number;
  /** Timed repetitions per query in the pages scenario. */
  reps: number;
  /** CPUs the servers are pinned to (null: not pinned). */
  serverCpus: number[] | null;
  /** A scratch directory, removed at exit. */
  tmp: string;
}

export interface ScenarioResult {
  /** Machine-readable figures for bench/results/latest.json. */
  data: Record<string, unknown>;
  goals: Goal[];
  /** Failures that make the bench exit non-zero (not missed goals). */
  errors: string[];
  /** Human-readable tables. */
  text: string;
}
