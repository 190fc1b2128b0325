/** `ducto publish`: files read record by record, paced, sent, counted and summed up. */

import { createHash } from 'node:crypto';
import { basename, extname } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { PubSub } from '@google-cloud/pubsub';
import { SingleBar } from 'cli-progress';
import type { DatasetSchema } from '../core/dataset-schema.ts';
import { DuctoError } from '../core/errors.ts';
import { createTimeParser } from '../core/time.ts';
import { createPacer, createSemaphore } from './pacing.ts';
import { readFile } from './readers.ts';
import { createDirectSender, createTopicSender, type Message, type Outcome } from './senders.ts';

export interface PublishOptions {
  files: string[];
  /** Overrides the dataset inferred from each file name. */
  dataset?: string;
  /** Direct mode: the ingest URL that receives push envelopes. */
  endpoint?: string;
  /** Topic mode: a topic id in `project`, or a full `projects/P/topics/T` path. */
  topic?: string;
  project: string;
  /** Topic mode: an emulator's `host:port`; without it the client itself honours PUBSUB_EMULATOR_HOST. */
  emulatorHost?: string;
  /** Topic mode: a ready client (tests, or a caller that already holds one). */
  pubsub?: PubSub;
  /** Messages per second; 0 or absent = as fast as the receiver allows. */
  rate?: number;
  /** Requests in flight (direct mode), or publish RPCs in flight (topic mode). */
  concurrency?: number;
  progress?: boolean;
  schemas: ReadonlyMap<string, DatasetSchema>;
  signal?: AbortSignal;
}

/** Why one record was not accepted; the summary keeps the first few. */
export interface Problem {
  file: string;
  /** 0-based record position in the file; null when the whole file could not be read. */
  position: number | null;
  reason: string;
}

export interface PublishSummary {
  /** The dataset published to; several are joined with "," when the files differ. */
  dataset: string;
  /** Records found in the files, readable or not. */
  read: number;
  accepted: number;
  /** Answered with a non-2xx status (after retries of 429/503), or refused by Pub/Sub. */
  rejectedByServer: number;
  /** Records (or whole files) that could not be read or encoded; never sent. */
  invalid: number;
  /** No answer at all (connection refused or reset after every retry, or aborted). */
  failed: number;
  aborted: boolean;
  durationMs: number;
  /** Accepted messages per second. */
  ratePerSecond: number;
  problems: Problem[];
}

const DEFAULT_DATASET = 'flights';
const DEFAULT_CONCURRENCY = 64;
const MAX_PROBLEMS = 20;

// ---------------------------------------------------------------------------------------------
// Datasets and event ids

/**
 * The dataset of a file: `--dataset`, else the longest schema name that the file's base name
 * starts with (`flights-10k.json` → flights; `seattle-weather.csv` → seattle_weather, since
 * dataset names use "_" where file names often use "-"), else flights.
 */
export function datasetForFile(
  file: string,
  schemas: ReadonlyMap<string, DatasetSchema>,
  explicit?: string,
): DatasetSchema {
  const pick = (name: string) => {
    const schema = schemas.get(name);
    if (!schema)
      throw new DuctoError(
        'config_invalid',
        `unknown dataset "${name}" (known: ${[...schemas.keys()].join(', ')})`,
      );
    return schema;
  };
  if (explicit !== undefined) return pick(explicit);
  const stem = basename(file, extname(file)).toLowerCase().replaceAll('-', '_');
  let best: string | undefined;
  for (const name of schemas.keys()) {
    const matches = stem === name || (stem.startsWith(name) && /^[_.]/.test(stem.slice(name.length)));
    if (matches && name.length > (best?.length ?? 0)) best = name;
  }
  return pick(best ?? DEFAULT_DATASET);
}

/**
 * The `event_id` of each record. With a schema key it is the id the ingest itself derives from the
 * key when no attribute is set (a time key as epoch microseconds), so the same event gets the same
 * id whatever route or file format carried it. Without a key it depends on the file name and the
 * record's position only: identical records at different positions are distinct events (real
 * flights repeat), and publishing the same file again repeats its ids.
 */
function createEventIds(
  schema: DatasetSchema,
): (record: Record<string, unknown>, file: string, position: number) => string {
  const key = schema.key === null ? undefined : schema.fields.find((f) => f.name === schema.key);
  const parseTime = createTimeParser(schema.time.formats);
  const byPosition = (file: string, position: number) =>
    createHash('sha256')
      .update(`${basename(file)}\n${position}`)
      .digest('hex')
      .slice(0, 20);
  return (record, file, position) => {
    const value = key === undefined ? undefined : record[key.name];
    if (value === undefined || value === null || value === '') return byPosition(file, position);
    if (key?.type === 'timestamp' && typeof value === 'string') {
      const t = parseTime(value);
      if (t.ok) return String(t.micros);
    }
    return String(value);
  };
}

// ---------------------------------------------------------------------------------------------
// Readers: each yields records in file order, one at a time, so memory stays bounded.

// ---------------------------------------------------------------------------------------------
// Progress

async function countRecords(
  file: string,
  duck: () => Promise<DuckDBConnection>,
): Promise<number | undefined> {
  // Parquet keeps row counts in its footer; other formats would need a second full read.
  if (extname(file).toLowerCase() !== '.parquet') return undefined;
  try {
    const reader = await (await duck()).runAndReadAll('SELECT count(*)::INTEGER AS n FROM read_parquet($1)', [
      file,
    ]);
    return reader.getRows()[0]?.[0] as number;
  } catch {
    return undefined;
  }
}

async function createProgress(files: string[], duck: () => Promise<DuckDBConnection>) {
  const counts = await Promise.all(files.map((f) => countRecords(f, duck)));
  const total = counts.every((c) => c !== undefined) ? counts.reduce((a, b) => a + b, 0) : undefined;
  const bar = new SingleBar({
    stream: process.stderr,
    format:
      total === undefined
        ? 'publishing {value} records | {speed}/s | {duration_formatted}'
        : 'publishing [{bar}] {percentage}% | {value}/{total} | {speed}/s | eta {eta_formatted}',
    hideCursor: true,
    etaBuffer: 200,
  });
  bar.start(total ?? 0, 0, { speed: 0 });
  return bar;
}

// ---------------------------------------------------------------------------------------------

/** `ducto publish FILE...`: one message per record, to the ingest endpoint or to a topic. */
export async function publish(options: PublishOptions): Promise<PublishSummary> {
  if ((options.endpoint === undefined) === (options.topic === undefined)) {
    throw new DuctoError('config_invalid', 'publish needs exactly one of an endpoint URL or a topic');
  }
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new DuctoError('config_invalid', `concurrency must be a positive integer, not ${concurrency}`);
  }
  const rate = options.rate ?? 0;
  if (!Number.isFinite(rate) || rate < 0)
    throw new DuctoError('config_invalid', `rate must be 0 or more, not ${rate}`);
  if (options.endpoint !== undefined && !URL.canParse(options.endpoint)) {
    throw new DuctoError('config_invalid', `the endpoint "${options.endpoint}" is not a URL`);
  }
  // Resolved up front, so an unknown --dataset fails before anything is sent.
  const plan = options.files.map((file) => ({
    file,
    schema: datasetForFile(file, options.schemas, options.dataset),
  }));

  let connection: Promise<DuckDBConnection> | undefined;
  const duck = () => {
    // Loaded only for .json and .parquet: the native module costs start-up time.
    connection ??= import('@duckdb/node-api').then(async ({ DuckDBInstance }) =>
      (await DuckDBInstance.create(':memory:')).connect(),
    );
    return connection;
  };

  const summary: PublishSummary = {
    dataset: [...new Set(plan.map((p) => p.schema.name))].join(','),
    read: 0,
    accepted: 0,
    rejectedByServer: 0,
    invalid: 0,
    failed: 0,
    aborted: false,
    durationMs: 0,
    ratePerSecond: 0,
    problems: [],
  };
  const problem = (file: string, position: number | null, reason: string) => {
    if (summary.problems.length < MAX_PROBLEMS) summary.problems.push({ file, position, reason });
  };

  const started = performance.now();
  const sender =
    options.endpoint !== undefined
      ? createDirectSender(options.endpoint, options.project, concurrency)
      : await createTopicSender({ ...options, topic: options.topic! }, concurrency);
  const bar = options.progress ? await createProgress(options.files, duck) : undefined;
  const tick = () =>
    bar?.increment(1, { speed: Math.round(summary.accepted / ((performance.now() - started) / 1000)) });
  const pace = rate > 0 ? createPacer(rate) : undefined;
  const slots = createSemaphore(sender.inFlight);

  try {
    outer: for (const { file, schema } of plan) {
      const eventId = createEventIds(schema);
      for await (const item of readFile(file, schema, duck)) {
        if (options.signal?.aborted) {
          summary.aborted = true;
          break outer;
        }
        summary.read++;
        if ('error' in item) {
          summary.invalid++;
          problem(file, item.position, item.error);
          tick();
          continue;
        }
        let message: Message;
        try {
          const attributes = { event_id: eventId(item.record, file, item.position), dataset: schema.name };
          message = { dataset: schema.name, data: JSON.stringify(item.record), attributes };
        } catch (e) {
          summary.invalid++;
          problem(file, item.position, `cannot encode: ${(e as Error).message}`);
          tick();
          continue;
        }
        const position = item.position;
        const settle = (outcome: Outcome) => {
          if (outcome.kind === 'accepted') summary.accepted++;
          else {
            if (outcome.kind === 'rejected') summary.rejectedByServer++;
            else summary.failed++;
            problem(file, position, outcome.reason);
          }
          tick();
        };
        try {
          await pace?.(options.signal);
        } catch {
          settle({ kind: 'failed', reason: 'aborted before sending' });
          summary.aborted = true;
          break outer;
        }
        await slots.acquire();
        sender
          .send(message, options.signal)
          .catch((e: unknown): Outcome => ({ kind: 'failed', reason: String(e) }))
          .then(settle)
          .finally(slots.release);
      }
    }
    await slots.drain();
  } finally {
    await slots.drain();
    await sender.close();
    bar?.stop();
    if (connection) (await connection.catch(() => undefined))?.closeSync();
  }
  summary.durationMs = Math.round(performance.now() - started);
  summary.ratePerSecond = Math.round(summary.accepted / Math.max(summary.durationMs / 1000, 0.001));
  return summary;
}

/** True when every record read was accepted: the CLI exits 0 only then. */
export function allAccepted(summary: PublishSummary): boolean {
  return !summary.aborted && summary.accepted === summary.read;
}

export function formatSummary(s: PublishSummary): string {
  const lines = [
    `${s.dataset}: read ${s.read}, accepted ${s.accepted}, rejected by the server ${s.rejectedByServer}, ` +
      `invalid ${s.invalid}, failed ${s.failed} in ${(s.durationMs / 1000).toFixed(1)} s (${s.ratePerSecond}/s)` +
      (s.aborted ? ', aborted' : ''),
  ];
  for (const p of s.problems)
    lines.push(`  ${basename(p.file)}${p.position === null ? '' : ` #${p.position}`}: ${p.reason}`);
  const unlisted = s.read - s.accepted - s.problems.length;
  if (unlisted > 0 && s.problems.length === MAX_PROBLEMS) lines.push(`  … and ${unlisted} more`);
  return lines.join('\n');
}
