import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuctoError } from './core/errors.ts';
import { type FaultSpec, hasFaults, parseFaults } from './core/faults.ts';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './core/retry.ts';

export type PubSubMode = 'auto' | 'emulator' | 'direct';
export type DeliveryMode = 'push' | 'pull';

export interface BigQueryConfig {
  project: string;
  dataset: string;
  /** Unset: BigQuery runs each query where its dataset is. */
  location: string | undefined;
  maxBytesBilled: number;
  queryTimeoutMs: number;
  defaultRangeDays: number;
  maxRangeDays: number;
}

export interface DuckDBSettings {
  threads: number;
  /** DuckDB's memory_limit, e.g. `160MB`: its buffer pool spills to disk past it. */
  memoryLimit: string;
}

/** Where events are stored: exactly one warehouse, with only its own settings. */
export type WarehouseConfig =
  | ({ kind: 'duckdb' /** The database file, or `:memory:`. */; path: string } & DuckDBSettings)
  | ({ kind: 'bigquery' } & BigQueryConfig);

/** What only the local stack (`ducto serve`) reads: the second port, the bus and the sample. */
export interface LocalStackConfig {
  /** The ingest endpoint's port (the API takes `port`). */
  ingestPort: number;
  pubsub: PubSubMode;
  /**
   * How the emulator's messages reach ingest: `push` (as in the cloud) or `pull` (a local
   * streaming-pull bridge; the emulator's push loop sends one message at a time).
   */
  delivery: DeliveryMode;
  /** Messages the pull bridge holds unacknowledged per dataset at most. */
  pullMaxMessages: number;
  emulatorHost: string;
  /** True when PUBSUB_EMULATOR_HOST was set explicitly. */
  emulatorHostSet: boolean;
  /** Publish the bundled sample into an empty dataset at start. */
  seed: boolean;
}

export interface Config {
  host: string;
  port: number;
  warehouse: WarehouseConfig;
  local: LocalStackConfig;
  schemasDir: string;
  /** Datasets this instance serves (a subset of the schema files), or null for all of them. */
  datasets: string[] | null;
  defaultDataset: string;
  project: string;
  /**
   * Injected warehouse faults (`DUCTO_FAULTS`), for tests and benchmarks; null unless `ducto serve`
   * was given `--allow-faults`. Every other entry point refuses the variable.
   */
  faults: FaultSpec | null;
  logLevel: string;
  batch: { maxRows: number; maxWaitMs: number; maxPending: number; concurrency: number };
  /** The writers' retry policy (core/retry.ts), for every warehouse. */
  retry: RetryPolicy;
  maxMessageBytes: number;
  api: {
    cursorSecret: string;
    cacheTtlMs: number;
    cacheMaxEntries: number;
    cacheMaxBytes: number;
    maxQueryLength: number;
    maxStatsGroups: number;
    /** Where consumers reach the API (the gateway's URL), for the OpenAPI `servers`; null: `/`, the serving host. */
    publicUrl: string | null;
  };
}

/** Command-line flags of `ducto serve`; each wins over its environment variable. */
export interface ServeFlags {
  pubsub?: string;
  delivery?: string;
  seed?: boolean;
  port?: number;
  ingestPort?: number;
  db?: string;
  allowFaults?: boolean;
}

/** The repository (or installed package) root: schemas and the bundled sample are found from it. */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

type Env = Record<string, string | undefined>;

/**
 * One thread fewer than the machine has (at least one): Node's event loop keeps a core, and DuckDB's
 * small batch writes get faster with fewer threads to schedule (1.7 ms for 64 rows with one thread
 * against 2.4 ms with two, on the two-core machine the bench runs on).
 */
const DEFAULT_DUCKDB_THREADS = Math.max(1, availableParallelism() - 1);
/**
 * DuckDB's memory limit. Its buffer pool spills table pages to disk past it, but the event_id key
 * index (the idempotency check) must fit: at about 15 MB per million rows, 1 GB holds tens of
 * millions of rows while keeping DuckDB from taking 80% of the machine, its own default. A lower
 * limit bounds the process's memory further (docs/performance.md#memory); writes past what the index
 * needs then fail as unavailable (retried, then left to Pub/Sub), never as rejected rows.
 */
const DEFAULT_DUCKDB_MEMORY_LIMIT = '1GB';

/** DuckDB's threads and memory limit, from DUCTO_DUCKDB_THREADS and DUCTO_DUCKDB_MEMORY_LIMIT. */
export function duckdbSettings(env: Env): DuckDBSettings {
  return {
    threads: int(env, 'DUCTO_DUCKDB_THREADS', DEFAULT_DUCKDB_THREADS, 1, 1024),
    memoryLimit: memoryLimit(env.DUCTO_DUCKDB_MEMORY_LIMIT ?? DEFAULT_DUCKDB_MEMORY_LIMIT),
  };
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new DuctoError('config_invalid', `${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return n;
}

function memoryLimit(raw: string): string {
  if (!/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i.test(raw))
    throw new DuctoError(
      'config_invalid',
      `DUCTO_DUCKDB_MEMORY_LIMIT must be a size such as 128MB or 1GB, got "${raw}"`,
    );
  return raw;
}

function bigqueryConfig(env: Env): BigQueryConfig {
  const project = env.DUCTO_BQ_PROJECT ?? env.GOOGLE_CLOUD_PROJECT;
  if (!project || !/^(?:[a-z][a-z0-9.-]*:)?[a-z][a-z0-9-]{0,62}$/.test(project)) {
    throw new DuctoError(
      'config_invalid',
      `DUCTO_WAREHOUSE=bigquery needs DUCTO_BQ_PROJECT (or GOOGLE_CLOUD_PROJECT) set to a project id, got "${project ?? ''}"`,
    );
  }
  const dataset = env.DUCTO_BQ_DATASET ?? 'ducto';
  if (!/^[A-Za-z0-9_]{1,1024}$/.test(dataset)) {
    throw new DuctoError(
      'config_invalid',
      `DUCTO_BQ_DATASET must be letters, digits and _, got "${dataset}"`,
    );
  }
  const maxRangeDays = int(env, 'DUCTO_BQ_MAX_RANGE_DAYS', 31, 1, 3660);
  const defaultRangeDays = int(
    env,
    'DUCTO_BQ_DEFAULT_RANGE_DAYS',
    Math.min(7, maxRangeDays),
    1,
    maxRangeDays,
  );
  return {
    project,
    dataset,
    location: env.DUCTO_BQ_LOCATION || undefined,
    // BigQuery bills at least 10 MB per table a query reads, so a lower cap would refuse every query.
    maxBytesBilled: int(env, 'DUCTO_BQ_MAX_BYTES_BILLED', 5 * 1024 ** 3, 10 * 1024 ** 2, 2 ** 50),
    queryTimeoutMs: int(env, 'DUCTO_BQ_QUERY_TIMEOUT_MS', 10_000, 100, 600_000),
    defaultRangeDays,
    maxRangeDays,
  };
}

/**
 * Reads and validates the whole configuration once, at start-up: flags win over the environment,
 * which wins over defaults. Nothing else in ducto reads process.env.
 */
export function readConfig(env: Env, flags: ServeFlags = {}): Config {
  const pubsub = flags.pubsub ?? env.DUCTO_PUBSUB ?? 'auto';
  const delivery = flags.delivery ?? env.DUCTO_DELIVERY ?? 'push';
  if (delivery !== 'push' && delivery !== 'pull') {
    throw new DuctoError(
      'config_invalid',
      `--delivery / DUCTO_DELIVERY must be push or pull, got "${delivery}"`,
    );
  }
  if (delivery === 'pull' && pubsub === 'direct') {
    throw new DuctoError(
      'config_invalid',
      '--delivery=pull pulls from the Pub/Sub emulator, which --pubsub=direct does not run',
    );
  }
  if (pubsub !== 'auto' && pubsub !== 'emulator' && pubsub !== 'direct') {
    throw new DuctoError(
      'config_invalid',
      `--pubsub / DUCTO_PUBSUB must be auto, emulator or direct, got "${pubsub}"`,
    );
  }
  const port = flags.port ?? int(env, 'PORT', 8080, 0, 65535);
  const ingestPort = flags.ingestPort ?? int(env, 'INGEST_PORT', 8081, 0, 65535);
  if (port === ingestPort && port !== 0)
    throw new DuctoError('config_invalid', 'PORT and INGEST_PORT must differ');
  const logLevel = env.LOG_LEVEL ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new DuctoError('config_invalid', `LOG_LEVEL must be a pino level, got "${logLevel}"`);
  }
  const warehouse = env.DUCTO_WAREHOUSE ?? 'duckdb';
  if (warehouse !== 'duckdb' && warehouse !== 'bigquery') {
    throw new DuctoError('config_invalid', `DUCTO_WAREHOUSE must be duckdb or bigquery, got "${warehouse}"`);
  }
  const emulatorHost = env.PUBSUB_EMULATOR_HOST ?? '127.0.0.1:8085';
  if (!/^[\w.-]+:\d{1,5}$|^\[[\d:a-f]+\]:\d{1,5}$/i.test(emulatorHost)) {
    throw new DuctoError('config_invalid', `PUBSUB_EMULATOR_HOST must be host:port, got "${emulatorHost}"`);
  }
  const faults = parseFaults(env.DUCTO_FAULTS ?? '');
  if (hasFaults(faults) && !flags.allowFaults) {
    throw new DuctoError(
      'config_invalid',
      'DUCTO_FAULTS is set, but fault injection is only honoured by `ducto serve --allow-faults` (tests and benchmarks); unset it',
    );
  }
  return {
    host: env.HOST ?? '127.0.0.1',
    port,
    warehouse:
      warehouse === 'bigquery'
        ? { kind: 'bigquery', ...bigqueryConfig(env) }
        : { kind: 'duckdb', path: flags.db ?? env.DUCTO_DB ?? './data/ducto.duckdb', ...duckdbSettings(env) },
    local: {
      ingestPort,
      pubsub,
      delivery,
      pullMaxMessages: int(env, 'DUCTO_PULL_MAX_MESSAGES', 1000, 1, 100_000),
      emulatorHost,
      emulatorHostSet: env.PUBSUB_EMULATOR_HOST !== undefined,
      seed: flags.seed ?? env.DUCTO_SEED !== '0',
    },
    schemasDir: env.DUCTO_SCHEMAS ?? resolve(PACKAGE_ROOT, 'schemas'),
    datasets: env.DUCTO_DATASETS
      ? env.DUCTO_DATASETS.split(',')
          .map((d) => d.trim())
          .filter(Boolean)
      : null,
    defaultDataset: env.DUCTO_DEFAULT_DATASET ?? 'flights',
    project: env.GOOGLE_CLOUD_PROJECT ?? 'ducto-local',
    faults: flags.allowFaults && hasFaults(faults) ? faults : null,
    logLevel,
    batch: {
      maxRows: int(env, 'DUCTO_BATCH_MAX_ROWS', 1000, 1, 100_000),
      maxWaitMs: int(env, 'DUCTO_BATCH_MAX_MS', 2, 0, 10_000),
      maxPending: int(env, 'DUCTO_MAX_PENDING', 20_000, 1, 10_000_000),
      concurrency: int(env, 'DUCTO_WRITE_CONCURRENCY', 1, 1, 64),
    },
    retry: {
      attempts: int(env, 'DUCTO_WRITE_RETRY_ATTEMPTS', DEFAULT_RETRY_POLICY.attempts, 1, 100),
      baseDelayMs: int(env, 'DUCTO_WRITE_RETRY_BASE_MS', DEFAULT_RETRY_POLICY.baseDelayMs, 0, 60_000),
      maxDelayMs: int(env, 'DUCTO_WRITE_RETRY_MAX_MS', DEFAULT_RETRY_POLICY.maxDelayMs, 0, 60_000),
      // Under the push subscription's 60 s ack deadline.
      budgetMs: int(env, 'DUCTO_WRITE_RETRY_BUDGET_MS', DEFAULT_RETRY_POLICY.budgetMs, 0, 55_000),
    },
    maxMessageBytes: int(env, 'DUCTO_MAX_MESSAGE_BYTES', 64 * 1024, 1024, 10 * 1024 * 1024),
    api: {
      // Signs pagination cursors. Instances behind one front door must share it; locally any value works.
      cursorSecret: env.DUCTO_CURSOR_SECRET ?? 'ducto-local-cursor-secret',
      cacheTtlMs: int(env, 'DUCTO_CACHE_TTL_MS', 5_000, 0, 3_600_000),
      cacheMaxEntries: int(env, 'DUCTO_CACHE_MAX_ENTRIES', 1_000, 0, 1_000_000),
      cacheMaxBytes: int(env, 'DUCTO_CACHE_MAX_BYTES', 64 * 1024 * 1024, 0, 4 * 1024 ** 3),
      maxQueryLength: int(env, 'DUCTO_MAX_QUERY_LENGTH', 4096, 256, 65_536),
      maxStatsGroups: int(env, 'DUCTO_MAX_STATS_GROUPS', 10_000, 1, 1_000_000),
      publicUrl: publicUrl(env.DUCTO_PUBLIC_URL),
    },
  };
}

/** DUCTO_PUBLIC_URL: an absolute http(s) URL without query or fragment, or unset. */
function publicUrl(raw: string | undefined): string | null {
  if (raw === undefined || raw === '') return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new DuctoError(
      'config_invalid',
      `DUCTO_PUBLIC_URL must be an absolute URL, got "${raw.slice(0, 100)}"`,
    );
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.hash)
    throw new DuctoError(
      'config_invalid',
      `DUCTO_PUBLIC_URL must be an http(s) URL without query or fragment, got "${raw.slice(0, 100)}"`,
    );
  return raw.replace(/\/+$/, '');
}
