import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { basename, extname } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import type { PubSub, Topic } from '@google-cloud/pubsub';
import { SingleBar } from 'cli-progress';
import { parse as parseCsv } from 'csv-parse';
import type { DatasetSchema, FieldSpec } from '../core/dataset-schema.ts';
import { encodePushEnvelope } from '../core/delivery.ts';
import { DuctoError } from '../core/errors.ts';
import { createTimeParser, microsToIso } from '../core/time.ts';
import { emulatorClientConfig } from '../pubsub/emulator.ts';
import { subscriptionName } from '../pubsub/topology.ts';

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
const MAX_ATTEMPTS = 6;
// Topic mode: messages per publish RPC. In-flight messages are concurrency × this.
const TOPIC_BATCH = 100;
const PERMISSION_DENIED = 7;

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
export function createEventIds(
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

type Item =
  | { position: number; record: Record<string, unknown> }
  | { position: number | null; error: string };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

async function* readNdjson(file: string): AsyncGenerator<Item> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
  let position = 0;
  let line = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() === '') continue;
    try {
      const value: unknown = JSON.parse(text);
      yield isObject(value)
        ? { position, record: value }
        : { position, error: `line ${line}: not a JSON object` };
    } catch (e) {
      yield { position, error: `line ${line}: ${(e as Error).message}` };
    }
    position++;
  }
}

/** CSV cells are text; the schema says what each column is. An empty cell is an absent value. */
function csvValue(text: string, field: FieldSpec | undefined): unknown {
  if (text === '') return undefined;
  switch (field?.type) {
    case 'integer':
    case 'number': {
      // Number('') and Number(' ') are 0 and Number('0x1f') is 31: only plain decimals convert.
      if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text.trim())) return text;
      return Number(text);
    }
    case 'boolean': {
      const lower = text.trim().toLowerCase();
      return lower === 'true' ? true : lower === 'false' ? false : text;
    }
    default:
      return text;
  }
}

async function* readCsv(file: string, schema: DatasetSchema): AsyncGenerator<Item> {
  // csv-parse rather than DuckDB's read_csv: it streams, and a row with the wrong number of columns
  // is reported with its line while the rows around it keep their positions (DuckDB either fails the
  // whole file or drops such rows without saying where accepted rows were).
  const parser = createReadStream(file).pipe(
    parseCsv({ bom: true, relax_column_count: true, skip_empty_lines: true, info: true }),
  );
  const fields = new Map(schema.fields.map((f) => [f.name, f]));
  let header: string[] | undefined;
  let position = 0;
  for await (const { record, info } of parser as AsyncIterable<{
    record: string[];
    info: { lines: number };
  }>) {
    if (header === undefined) {
      header = record.map((h) => h.trim());
      continue;
    }
    if (record.length !== header.length) {
      yield {
        position,
        error: `line ${info.lines}: ${record.length} columns, the header has ${header.length}`,
      };
    } else {
      const out: Record<string, unknown> = {};
      header.forEach((name, i) => {
        const value = csvValue(record[i]!, fields.get(name));
        if (value !== undefined) out[name] = value;
      });
      yield { position, record: out };
    }
    position++;
  }
}

type DuckModule = typeof import('@duckdb/node-api');

const timestampIso = (micros: bigint) => microsToIso(Number(micros));

/** DuckDB values as JSON: integers as numbers, times as ISO 8601 UTC (a zone-less time is UTC). */
function createJsonValue(duck: DuckModule): (v: DuckDBValue) => unknown {
  return (v) => {
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
    if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
    if (v instanceof duck.DuckDBTimestampValue || v instanceof duck.DuckDBTimestampTZValue)
      return timestampIso(v.micros);
    if (v instanceof duck.DuckDBTimestampMillisecondsValue) return timestampIso(v.millis * 1000n);
    if (v instanceof duck.DuckDBTimestampSecondsValue) return timestampIso(v.seconds * 1_000_000n);
    if (v instanceof duck.DuckDBTimestampNanosecondsValue) return timestampIso(v.nanos / 1000n);
    if (v instanceof duck.DuckDBDateValue) return new Date(v.days * 86_400_000).toISOString().slice(0, 10);
    if (v instanceof duck.DuckDBDecimalValue) return v.toDouble();
    return String(v);
  };
}

async function* readParquet(file: string, connection: DuckDBConnection): AsyncGenerator<Item> {
  const jsonValue = createJsonValue(await import('@duckdb/node-api'));
  // Streamed in DuckDB's chunks of 2,048 rows; insertion order is preserved, so positions are stable.
  const result = await connection.stream('SELECT * FROM read_parquet($1)', [file]);
  let position = 0;
  for await (const rows of result.yieldRowObjects()) {
    for (const row of rows) {
      const record: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(row)) {
        if (value !== null) record[name] = jsonValue(value);
      }
      yield { position: position++, record };
    }
  }
}

async function* readJsonArray(file: string, connection: DuckDBConnection): AsyncGenerator<Item> {
  // DuckDB splits the top-level array into element texts while streaming the file.
  const result = await connection.stream(
    `SELECT json::VARCHAR AS json FROM read_json_objects($1, format = 'array')`,
    [file],
  );
  let position = 0;
  for await (const rows of result.yieldRows()) {
    for (const [text] of rows) {
      const value: unknown = JSON.parse(text as string);
      yield isObject(value)
        ? { position, record: value }
        : { position, error: `element ${position}: not a JSON object` };
      position++;
    }
  }
}

const FORMATS = ['.json', '.ndjson', '.jsonl', '.csv', '.parquet'];

async function* readFile(
  file: string,
  schema: DatasetSchema,
  duck: () => Promise<DuckDBConnection>,
): AsyncGenerator<Item> {
  const ext = extname(file).toLowerCase();
  try {
    switch (ext) {
      case '.ndjson':
      case '.jsonl':
        yield* readNdjson(file);
        return;
      case '.csv':
        yield* readCsv(file, schema);
        return;
      case '.json':
        yield* readJsonArray(file, await duck());
        return;
      case '.parquet':
        yield* readParquet(file, await duck());
        return;
      default:
        yield { position: null, error: `unsupported file type "${ext}" (${FORMATS.join(', ')})` };
    }
  } catch (e) {
    // A file that cannot be read on (missing, malformed array, broken CSV quoting) ends here.
    yield { position: null, error: (e as Error).message.split('\n')[0] ?? String(e) };
  }
}

// ---------------------------------------------------------------------------------------------
// Pacing and concurrency

/**
 * Paces starts at `rate` per second by reserving evenly spaced start times (GCRA). Every caller
 * sleeps once until its own slot, so there is no polling, and sleeping late never lets the rate
 * drift: the next slot is computed from the previous slot, not from when the sleeper woke up.
 */
function createPacer(rate: number): (signal?: AbortSignal) => Promise<void> {
  const interval = 1000 / rate;
  let next = 0;
  return async (signal) => {
    const now = performance.now();
    const slot = Math.max(now, next);
    next = slot + interval;
    // Timers have millisecond resolution; a shorter wait is let through and paid back by later slots.
    if (slot - now >= 1) await sleep(slot - now, undefined, { signal });
  };
}

function createSemaphore(size: number) {
  let free = size;
  const waiting: Array<() => void> = [];
  let idle: (() => void) | undefined;
  return {
    async acquire(): Promise<void> {
      if (free > 0) {
        free--;
        return;
      }
      await new Promise<void>((resolve) => waiting.push(resolve));
    },
    release(): void {
      const next = waiting.shift();
      if (next) next();
      else if (++free === size) idle?.();
    },
    /** Resolves once every permit is back. */
    async drain(): Promise<void> {
      if (free === size) return;
      await new Promise<void>((resolve) => {
        idle = resolve;
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Senders

type Outcome = { kind: 'accepted' } | { kind: 'rejected' | 'failed'; reason: string };

interface Message {
  dataset: string;
  data: string;
  attributes: Record<string, string>;
}

interface Sender {
  send(message: Message, signal?: AbortSignal): Promise<Outcome>;
  close(): Promise<void>;
  inFlight: number;
}

function backoffMs(attempt: number, retryAfter: string | undefined): number {
  const seconds = Number(retryAfter);
  if (retryAfter !== undefined && Number.isFinite(seconds) && seconds >= 0)
    return Math.min(seconds * 1000, 30_000);
  // Full jitter: a fleet of retries must not come back in step.
  return Math.random() * Math.min(100 * 2 ** attempt, 5_000);
}

/**
 * Direct mode: POSTs push envelopes as Pub/Sub would. node:http with a keep-alive agent rather
 * than fetch: measured on loopback it is 3–4 times faster (fetch's streams cost more than the
 * request itself at this size).
 */
function createDirectSender(endpoint: string, project: string, concurrency: number): Sender {
  const url = new URL(endpoint);
  const client = url.protocol === 'https:' ? https : http;
  const agent = new client.Agent({ keepAlive: true, maxSockets: concurrency });
  const runId = randomBytes(4).toString('hex');
  let sequence = 0;

  const post = (body: string) =>
    new Promise<{ status: number; retryAfter: string | undefined; text: string }>((resolve, reject) => {
      const req = client.request(
        url,
        {
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const status = res.statusCode ?? 0;
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            if (status >= 300 && text.length < 300) text += chunk;
          });
          res.on('end', () => resolve({ status, retryAfter: res.headers['retry-after'], text }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  return {
    inFlight: concurrency,
    async send(message, signal) {
      const body = encodePushEnvelope(
        message.data,
        `${runId}-${sequence++}`,
        message.attributes,
        `projects/${project}/subscriptions/${subscriptionName(message.dataset)}`,
      );
      for (let attempt = 1; ; attempt++) {
        let reason: string;
        let retryAfter: string | undefined;
        try {
          const res = await post(body);
          if (res.status >= 200 && res.status < 300) return { kind: 'accepted' };
          reason = `HTTP ${res.status}${res.text ? `: ${res.text.slice(0, 200)}` : ''}`;
          if ((res.status !== 429 && res.status !== 503) || attempt >= MAX_ATTEMPTS)
            return { kind: 'rejected', reason };
          retryAfter = res.retryAfter;
        } catch (e) {
          // A reset keep-alive socket or a receiver still starting: worth another try.
          reason = (e as Error).message;
          if (attempt >= MAX_ATTEMPTS) return { kind: 'failed', reason };
        }
        try {
          await sleep(backoffMs(attempt, retryAfter), undefined, { signal });
        } catch {
          return { kind: 'failed', reason: `aborted after ${reason}` };
        }
      }
    },
    async close() {
      agent.destroy();
    },
  };
}

/** Topic mode: the client batches messages into publish RPCs and retries transient errors itself. */
async function createTopicSender(options: PublishOptions, concurrency: number): Promise<Sender> {
  const owned = options.pubsub === undefined;
  // Loaded only here: the client and its gRPC stack cost ~0.5 s of start-up that direct mode skips.
  const pubsub =
    options.pubsub ??
    new (await import('@google-cloud/pubsub')).PubSub(
      options.emulatorHost
        ? emulatorClientConfig(options.emulatorHost, options.project)
        : { projectId: options.project },
    );
  const topic: Topic = pubsub.topic(options.topic!, {
    batching: { maxMessages: TOPIC_BATCH, maxMilliseconds: 10 },
  });
  try {
    const [exists] = await topic.exists();
    if (!exists) throw new DuctoError('config_invalid', `the topic ${topic.name} does not exist`);
  } catch (e) {
    // A least-privilege publisher (roles/pubsub.publisher) may not read topics: let publishing tell.
    if ((e as { code?: unknown }).code !== PERMISSION_DENIED) {
      if (owned) await pubsub.close();
      throw e;
    }
  }
  return {
    inFlight: concurrency * TOPIC_BATCH,
    async send(message) {
      try {
        await topic.publishMessage({ data: Buffer.from(message.data), attributes: message.attributes });
        return { kind: 'accepted' };
      } catch (e) {
        return { kind: 'rejected', reason: (e as Error).message };
      }
    },
    async close() {
      await topic.flush();
      if (owned) await pubsub.close();
    },
  };
}

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
      : await createTopicSender(options, concurrency);
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
