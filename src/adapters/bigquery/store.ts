import { type DatasetSchema, tableNames } from '../../core/dataset-schema.ts';
import {
  type BigQueryTable,
  bigqueryTableResource,
  bigqueryTables,
} from '../../core/derive/bigquery-schema.ts';
import { DuctoError } from '../../core/errors.ts';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../../core/retry.ts';
import { screenBatch } from '../../core/row-check.ts';
import * as sql from '../../core/sql/compile.ts';
import { bigqueryDialect } from '../../core/sql/dialect.ts';
import { partitionPolicy } from '../../core/sql/partition-range.ts';
import * as rejectedSql from '../../core/sql/rejected.ts';
import type { Micros } from '../../core/time.ts';
import type { StatsRow, StoredEvent, Warehouse, WriteBatch, WriteResult } from '../../core/warehouse.ts';
import type { BigQueryClient, StorageWriteClient } from './clients.ts';
import { createQueryRunner } from './query.ts';
import { eventJson, rejectedJson } from './rows.ts';
import { type AppendTarget, appendTarget, createAppender } from './writer.ts';

export interface BigQueryStoreOptions {
  /** A `BigQuery` client from `@google-cloud/bigquery` (or an object with the same methods). */
  bigquery: BigQueryClient;
  /** A `managedwriter.WriterClient` from `@google-cloud/bigquery-storage`. */
  writer: StorageWriteClient;
  project: string;
  dataset: string;
  /** Where queries run; unset lets BigQuery use the dataset's location. */
  location?: string;
  /** Bytes one query may bill at most; BigQuery refuses a query that would bill more. */
  maximumBytesBilled: number;
  /** Default 10 s. */
  queryTimeoutMs?: number;
  /** Days a list or stats query without `from` covers, today included. Default 7; null: all. */
  defaultRangeDays?: number | null;
  /** Longest from/to range a query may ask for, and how far back get and count look (days). Default 31; null: no limit. */
  maxRangeDays?: number | null;
  /** Days freshness looks back, today included. Default 2; null: all. */
  freshnessDays?: number | null;
  retry?: Partial<RetryPolicy>;
  /** An append not answered in this time is retried on a new connection. Default 30 s. */
  appendTimeoutMs?: number;
  /** Close the writer client on `close()` (when the caller made it for this store only). Default false. */
  closeClients?: boolean;
  /**
   * Rejected rows younger than this are left to a later replay. BigQuery's DML limitations: rows the
   * Storage Write API wrote in the last 30 minutes cannot be changed by UPDATE, so a replay could not
   * mark them. Default 30 min.
   */
  replayMinAgeMs?: number;
  now?: () => Micros;
  sleep?: (ms: number) => Promise<void>;
}

// Rows per page a stream fetches, and per chunk it yields to the encoder.
const PAGE_ROWS = 10_000;
const CHUNK_ROWS = 1_000;

interface Tables {
  schema: DatasetSchema;
  events: AppendTarget;
  rejected: AppendTarget;
}

/**
 * The Warehouse port on BigQuery. Writes go through the Storage Write API (writer.ts); reads
 * are the compiled queries of the shared compiler, each filtered to its partitions and deduplicated
 * (sql/dedup.ts), bound by name, capped in bytes and run in short-query mode (query.ts). The
 * caller passes the clients in; this never constructs one.
 */
export function createBigQueryStore(options: BigQueryStoreOptions): Warehouse {
  const { bigquery, writer, project, dataset } = options;
  const now = options.now ?? (() => Date.now() * 1000);
  const replayMinAge = (options.replayMinAgeMs ?? 30 * 60_000) * 1000;
  const policy = partitionPolicy({
    defaultDays: options.defaultRangeDays === undefined ? 7 : options.defaultRangeDays,
    maxDays: options.maxRangeDays === undefined ? 31 : options.maxRangeDays,
    recentDays: options.freshnessDays === undefined ? 2 : options.freshnessDays,
    now,
  });
  const dialect = bigqueryDialect({ tableName: (t) => `${project}.${dataset}.${t}`, partitions: policy });
  const runner = createQueryRunner({
    bigquery,
    location: options.location,
    maximumBytesBilled: options.maximumBytesBilled,
    timeoutMs: options.queryTimeoutMs ?? 10_000,
    pageRows: PAGE_ROWS,
  });
  const appender = createAppender(writer, {
    retry: { ...DEFAULT_RETRY_POLICY, ...options.retry },
    appendTimeoutMs: options.appendTimeoutMs ?? 30_000,
    sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
  });
  const ensured = new Map<string, Tables>();
  const writes = new Set<Promise<unknown>>();
  let closed = false;

  function checkOpen(): void {
    if (closed) throw new DuctoError('warehouse_unavailable', 'the BigQuery store is closed');
  }

  async function ensureTable(t: BigQueryTable): Promise<void> {
    const handle = bigquery.dataset(dataset);
    try {
      const table = handle.table(t.table_id);
      const [exists] = await table.exists();
      if (!exists) {
        await handle.createTable(t.table_id, bigqueryTableResource(t));
        return;
      }
      // Terraform owns the table in the cloud, from the same derived JSON. One made before a release
      // added nullable columns gains them here (an additive change), so appends and reads that name
      // them work before the next apply.
      const [meta] = await table.getMetadata();
      const fields = meta.schema?.fields ?? [];
      const have = new Set(fields.map((f) => f.name));
      const missing = t.schema.filter((f) => !have.has(f.name) && f.mode === 'NULLABLE');
      // Best effort: an identity that may only read (the api service) leaves it to Terraform's apply.
      if (missing.length > 0)
        await table.setMetadata({ schema: { fields: [...fields, ...missing] } }).catch(() => undefined);
    } catch (e) {
      // Another instance created it in between.
      if ((e as { code?: unknown }).code === 409) return;
      const message = e instanceof Error ? e.message : String(e);
      throw new DuctoError(
        'warehouse_unavailable',
        `cannot create or update ${dataset}.${t.table_id}: ${message}`,
        {
          cause: e,
        },
      );
    }
  }

  async function writeBatch(batch: WriteBatch): Promise<WriteResult> {
    const tables = ensured.get(batch.dataset);
    if (!tables) throw new DuctoError('internal', `dataset ${batch.dataset} was written before ensure()`);
    const { fields } = tables.schema;
    // A second copy in one batch would only be deduplicated when read: it is cheaper not to send it.
    const { rows, refused } = screenBatch(fields, batch.rows);
    const none = { refused: new Map<number, string>(), retries: 0 };
    const [events, rejected] = await Promise.all([
      rows.length === 0
        ? none
        : appender.append(
            tables.events,
            rows.map((r) => eventJson(fields, r)),
          ),
      batch.rejected.length === 0 ? none : appender.append(tables.rejected, batch.rejected.map(rejectedJson)),
    ]);
    const eventErrors = events.refused;
    const rejectedErrors = rejected.refused;
    for (const [i, reason] of eventErrors) {
      refused.push({ eventId: rows[i]!.eventId, code: 'warehouse_rejected', detail: reason });
    }
    if (rejectedErrors.size > 0) {
      // A rejected row has no other place to go: failing the batch leaves its message to Pub/Sub, which
      // redelivers it and dead-letters it in the end, instead of losing it here.
      const [reason] = rejectedErrors.values();
      throw new DuctoError(
        'warehouse_unavailable',
        `BigQuery refused ${rejectedErrors.size} row(s) of ${tableNames(tables.schema).rejected}: ${reason}`,
      );
    }
    // The default stream cannot tell a new row from a copy of a stored one: readers deduplicate.
    return { inserted: null, refused, retries: events.retries + rejected.retries };
  }

  async function rows(query: sql.CompiledQuery, label: string) {
    checkOpen();
    return runner.rows(query, label);
  }

  return {
    kind: 'bigquery',
    // Each append request is retried under the writers' policy by writer.ts.
    retriesWrites: true,

    async ensure(list) {
      checkOpen();
      for (const schema of list) {
        const { events, rejected } = bigqueryTables(schema);
        await ensureTable(events);
        await ensureTable(rejected);
        ensured.set(schema.name, {
          schema,
          events: appendTarget(project, dataset, events),
          rejected: appendTarget(project, dataset, rejected),
        });
      }
    },

    write(batch) {
      if (closed)
        return Promise.reject(new DuctoError('warehouse_unavailable', 'the BigQuery store is closed'));
      const write = writeBatch(batch);
      writes.add(write);
      void write.catch(() => undefined).finally(() => writes.delete(write));
      return write;
    },

    async list(schema, q) {
      return (await rows(sql.compileList(dialect, schema, q), 'list')) as StoredEvent[];
    },

    async *stream(schema, q) {
      checkOpen();
      const chunks = runner.stream(sql.compileList(dialect, schema, q), 'stream', CHUNK_ROWS);
      for await (const chunk of chunks) yield chunk as StoredEvent[];
    },

    async get(schema, eventId) {
      const [row] = await rows(sql.compileGet(dialect, schema, eventId), 'get');
      return (row as StoredEvent | undefined) ?? null;
    },

    async stats(schema, q) {
      return (await rows(sql.compileStats(dialect, schema, q), 'stats')) as StatsRow[];
    },

    async freshness(schema) {
      const [row] = await rows(sql.compileFreshness(dialect, schema), 'freshness');
      return sql.readFreshness(row);
    },

    async count(schema) {
      const [row] = await rows(sql.compileCount(dialect, schema), 'count');
      return Number(row?.count ?? 0);
    },

    async rejected(schema, limit) {
      return (await rows(rejectedSql.compileRejected(dialect, schema, limit), 'rejected')).map((r) =>
        rejectedSql.readRejected(r, r.payload instanceof Uint8Array ? new Uint8Array(r.payload) : null),
      );
    },

    async replayable(schema, q) {
      const newest = now() - replayMinAge;
      const to = q.to === null ? newest : Math.min(q.to, newest);
      return (await rows(rejectedSql.compileReplayable(dialect, schema, { ...q, to }), 'replayable')).map(
        (r) =>
          rejectedSql.readRejected(r, r.payload instanceof Uint8Array ? new Uint8Array(r.payload) : null),
      );
    },

    async markReplayed(schema, marks) {
      // One DML statement per group; a table takes a few mutating statements at a time, so one after another.
      for (const group of rejectedSql.groupReplayMarks(marks))
        await rows(rejectedSql.compileMarkReplayed(dialect, schema, group), 'mark-replayed');
    },

    async ping() {
      await rows({ sql: 'SELECT 1', params: [] }, 'ping');
    },

    async close() {
      if (closed) return;
      closed = true;
      // Writes already started finish (or fail) before their connections close.
      await Promise.allSettled([...writes]);
      runner.close();
      appender.close();
      if (options.closeClients) writer.close();
    },
  };
}
