import { adapt, managedwriter } from '@google-cloud/bigquery-storage';
import type { BigQueryTable } from '../../core/derive/bigquery-schema.ts';
import { DuctoError } from '../../core/errors.ts';
import { nextDelay, type RetryPolicy } from '../../core/retry.ts';
import type { AppendConnection, AppendRowsResponse, StorageWriteClient } from './clients.ts';
import { approxBytes, type JsonRow } from './rows.ts';

/*
 * The writers' one retry policy (core/retry.ts) is applied here to each append request: only this
 * adapter tells a transient gRPC status from a refusal of the data, and a request that succeeded
 * must not be appended again. The budget is per request, kept under the push subscription's ack
 * deadline (60 s): past it Pub/Sub redelivers anyway, and a write still retrying then only adds
 * load (and a duplicate the read side has to remove).
 */

const DEADLINE_EXCEEDED = 4;
const RESOURCE_EXHAUSTED = 8;
const ABORTED = 10;
const INTERNAL = 13;
const UNAVAILABLE = 14;
// gRPC codes that say the service is busy, restarting or slow, not that it refuses the data.
const TRANSIENT = new Set([DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, INTERNAL, UNAVAILABLE]);

// An append request may carry at most 10 MB; the rest is room for the request's own fields.
export const MAX_REQUEST_BYTES = 8 * 1024 * 1024;

/** Where rows go: a table's default stream, in the protobuf shape derived from its schema. */
export interface AppendTarget {
  /** `projects/<p>/datasets/<d>/tables/<t>` */
  table: string;
  descriptor: ReturnType<typeof adapt.convertStorageSchemaToProto2Descriptor>;
}

export function appendTarget(project: string, dataset: string, t: BigQueryTable): AppendTarget {
  const storageSchema = adapt.convertBigQuerySchemaToStorageTableSchema({ fields: t.schema });
  return {
    table: `projects/${project}/datasets/${dataset}/tables/${t.table_id}`,
    descriptor: adapt.convertStorageSchemaToProto2Descriptor(storageSchema, 'root'),
  };
}

export interface Appender {
  /**
   * Appends rows; resolves when every row is written or refused, with the refused ones (row index →
   * BigQuery's reason) and the attempts repeated after a transient failure. Throws
   * `warehouse_unavailable` when the rows could not be written at all.
   */
  append(target: AppendTarget, rows: JsonRow[]): Promise<{ refused: Map<number, string>; retries: number }>;
  /** Closes the append streams (rows not yet acknowledged are the caller's to wait for). */
  close(): void;
}

export interface AppenderOptions {
  retry: RetryPolicy;
  /** An append not answered in this time is abandoned and retried on a new connection. */
  appendTimeoutMs: number;
  sleep: (ms: number) => Promise<void>;
}

interface Item {
  row: JsonRow;
  index: number;
}

class AppendError extends Error {
  constructor(
    message: string,
    readonly code: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

function codeOf(e: unknown): number | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** Splits rows into append requests under the size limit, keeping their indices in the batch. */
function requests(rows: JsonRow[]): Item[][] {
  const out: Item[][] = [];
  let current: Item[] = [];
  let bytes = 0;
  rows.forEach((row, index) => {
    const size = approxBytes(row);
    if (current.length > 0 && bytes + size > MAX_REQUEST_BYTES) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push({ row, index });
    bytes += size;
  });
  if (current.length > 0) out.push(current);
  return out;
}

/**
 * Writes through the Storage Write API's default stream of each table: one connection per table,
 * opened on first use and shared by every batch after (appends are pipelined on it). The default
 * stream commits a row when its append is acknowledged, and is at-least-once: a retried append may
 * have been written already, which is why readers deduplicate (sql/dedup.ts).
 */
export function createAppender(client: StorageWriteClient, options: AppenderOptions): Appender {
  const writers = new Map<string, Promise<managedwriter.JSONWriter>>();

  function writerFor(target: AppendTarget): Promise<managedwriter.JSONWriter> {
    let writer = writers.get(target.table);
    if (!writer) {
      writer = (async () => {
        let connection: AppendConnection;
        try {
          connection = await client.createStreamConnection({
            streamId: `${target.table}/streams/_default`,
            destinationTable: target.table,
          });
        } catch (cause) {
          // The library folds the gRPC status into the message; opening is worth retrying either way.
          throw new AppendError(`cannot open a write stream to ${target.table}`, UNAVAILABLE, { cause });
        }
        // Without a listener, an error event on the connection would be thrown and end the process;
        // the appends it affects fail on their own, and are retried.
        connection.onConnectionError(() => {});
        // JSONWriter is typed for the library's StreamConnection; it calls only the methods above.
        return new managedwriter.JSONWriter({
          connection: connection as never,
          protoDescriptor: target.descriptor,
          traceId: 'ducto',
        });
      })();
      writers.set(target.table, writer);
      writer.catch(() => writers.delete(target.table));
    }
    return writer;
  }

  /** Drops a table's connection, so the next append opens a fresh one. */
  async function reset(target: AppendTarget): Promise<void> {
    const writer = writers.get(target.table);
    writers.delete(target.table);
    (await writer?.catch(() => undefined))?.close();
  }

  async function appendOnce(
    target: AppendTarget,
    rows: JsonRow[],
    deadline: number,
  ): Promise<AppendRowsResponse> {
    const writer = await writerFor(target);
    const result = writer.appendRows(rows).getResult();
    const waitMs = Math.max(1, Math.min(options.appendTimeoutMs, deadline - Date.now()));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new AppendError(`no answer in ${waitMs} ms`, DEADLINE_EXCEEDED)),
        waitMs,
      );
    });
    try {
      return await Promise.race([result, timeout]);
    } catch (e) {
      if (e instanceof AppendError && e.code === DEADLINE_EXCEEDED) await reset(target);
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits before the next attempt, or throws when the failure is not transient or attempts are spent. */
  async function backOff(
    target: AppendTarget,
    error: unknown,
    failures: number,
    deadline: number,
  ): Promise<void> {
    const code = codeOf(error);
    const transient = code !== undefined && TRANSIENT.has(code);
    // Full jitter: concurrent writers that failed together do not retry together.
    const delay = transient ? nextDelay(options.retry, failures, deadline) : null;
    if (delay === null) {
      const message = error instanceof Error ? error.message : String(error);
      const tries = transient
        ? ` after ${failures} attempts${failures < options.retry.attempts ? ` (retry budget of ${options.retry.budgetMs} ms spent)` : ''}`
        : '';
      throw new DuctoError(
        'warehouse_unavailable',
        `BigQuery append to ${target.table} failed${tries}: ${message}`,
        {
          cause: error,
          retryAfter: 1,
        },
      );
    }
    await options.sleep(delay);
  }

  /** Appends one request's rows; resolves with the attempts it repeated after transient failures. */
  async function appendRequest(target: AppendTarget, items: Item[], refused: Map<number, string>) {
    let failures = 0;
    const deadline = Date.now() + options.retry.budgetMs;
    while (items.length > 0) {
      let response: AppendRowsResponse;
      try {
        response = await appendOnce(
          target,
          items.map((i) => i.row),
          deadline,
        );
      } catch (e) {
        await backOff(target, e, ++failures, deadline);
        continue;
      }
      const rowErrors = response.rowErrors ?? [];
      if (rowErrors.length > 0) {
        const bad = new Map<number, string>();
        for (const re of rowErrors) {
          const i = Number(re.index);
          if (!Number.isInteger(i) || i < 0 || i >= items.length) {
            throw new DuctoError(
              'warehouse_unavailable',
              `BigQuery reported an error on row ${re.index} of ${items.length}`,
            );
          }
          bad.set(i, re.message || 'the row does not fit the table');
        }
        for (const [i, reason] of bad) refused.set(items[i]!.index, reason);
        // A request with a bad row is refused whole: the others were not written, so they go again.
        items = items.filter((_, i) => !bad.has(i));
        continue;
      }
      const error = response.error;
      if (error?.code) {
        await backOff(
          target,
          new AppendError(error.message ?? 'append failed', error.code),
          ++failures,
          deadline,
        );
        continue;
      }
      return failures;
    }
    return failures;
  }

  return {
    async append(target, rows) {
      const refused = new Map<number, string>();
      let retries = 0;
      for (const items of requests(rows)) retries += await appendRequest(target, items, refused);
      return { refused, retries };
    },
    close() {
      for (const writer of writers.values()) void writer.then((w) => w.close()).catch(() => undefined);
      writers.clear();
    },
  };
}
