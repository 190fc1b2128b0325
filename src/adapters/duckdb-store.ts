import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  type DuckDBAppender,
  DuckDBBlobValue,
  type DuckDBConnection,
  DuckDBInstance,
  DuckDBTimestampValue,
  type DuckDBType,
  type DuckDBValue,
  TIMESTAMP,
  VARCHAR,
} from '@duckdb/node-api';
import { type DatasetSchema, type FieldSpec, tableNames } from '../core/dataset-schema.ts';
import { duckdbDdl } from '../core/derive/duckdb-ddl.ts';
import { DuctoError, type RejectCode } from '../core/errors.ts';
import type { Value } from '../core/record.ts';
import {
  type CompiledQuery,
  compileCount,
  compileFreshness,
  compileGet,
  compileList,
  compileStats,
  type ParamType,
  type QueryParam,
} from '../core/sql/compile.ts';
import { duckdbDialect as dialect } from '../core/sql/dialect.ts';
import type { Micros } from '../core/time.ts';
import type {
  EventRow,
  RejectedRow,
  StoredEvent,
  Warehouse,
  WriteBatch,
  WriteResult,
} from '../core/warehouse.ts';

export interface DuckDBStoreOptions {
  /** Connections serving reads, apart from the one writer (default 4). */
  readConnections?: number;
  /** Close the instance on `close()`. Default: only when `openDuckDB` opened it. */
  closeInstance?: boolean;
}

const opened = new WeakSet<DuckDBInstance>();

/**
 * Opens a DuckDB database file (creating its directory), or `:memory:`. A store given this instance
 * closes it on `close()`; an instance the caller created itself is left open for the caller to close.
 */
export async function openDuckDB(path: string): Promise<{ instance: DuckDBInstance; path: string }> {
  try {
    if (!path.startsWith(':memory:')) mkdirSync(dirname(path), { recursive: true });
    const instance = await DuckDBInstance.create(path);
    opened.add(instance);
    return { instance, path };
  } catch (cause) {
    throw new DuctoError('warehouse_unavailable', `cannot open the DuckDB database ${path}`, { cause });
  }
}

// Failures of the database itself, as opposed to a bad statement (a bug, reported as it is).
const UNAVAILABLE =
  /^(IO|Connection|FATAL|Fatal|Interrupt|Out of Memory|Permission) Error|database has been invalidated|(connection|database)[^.]* closed/i;

function failure(e: unknown, doing: string): unknown {
  if (e instanceof DuctoError) return e;
  const message = e instanceof Error ? e.message : String(e);
  if (!UNAVAILABLE.test(message)) return e;
  return new DuctoError('warehouse_unavailable', `DuckDB ${doing}: ${message}`, { cause: e });
}

const PARAM_TYPES: Record<ParamType, DuckDBType> = {
  STRING: VARCHAR,
  INT64: BIGINT,
  FLOAT64: DOUBLE,
  BOOL: BOOLEAN,
  TIMESTAMP,
};

function bind(params: QueryParam[]): [Record<string, DuckDBValue>, Record<string, DuckDBType>] {
  const values: Record<string, DuckDBValue> = {};
  const types: Record<string, DuckDBType> = {};
  for (const p of params) {
    types[p.name] = PARAM_TYPES[p.type];
    const v = p.value;
    values[p.name] =
      typeof v === 'number' && p.type === 'TIMESTAMP'
        ? new DuckDBTimestampValue(BigInt(v))
        : typeof v === 'number' && p.type === 'INT64'
          ? BigInt(v)
          : v;
  }
  return [values, types];
}

function toValue(v: DuckDBValue): Value {
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  // BIGINT, and HUGEINT for sums: exact while below 2^53, the bound every stored integer respects.
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof DuckDBTimestampValue) return Number(v.micros);
  throw new Error(`unexpected DuckDB value of type ${v.constructor.name}`);
}

function toObjects(names: string[], rows: DuckDBValue[][]): Record<string, Value>[] {
  return rows.map((row) => {
    const o: Record<string, Value> = {};
    for (let i = 0; i < names.length; i++) o[names[i]!] = toValue(row[i]!);
    return o;
  });
}

function appendTimestamp(a: DuckDBAppender, micros: Micros | null): void {
  if (micros === null) a.appendNull();
  else a.appendTimestamp(new DuckDBTimestampValue(BigInt(micros)));
}

/** Why a row cannot be appended as typed, or null; checked before any cell so a row is all or nothing. */
function rowProblem(fields: FieldSpec[], row: EventRow): string | null {
  if (typeof row.eventId !== 'string' || row.eventId.length === 0) return 'event_id is empty';
  if (!Number.isSafeInteger(row.ingestedAt)) return 'ingested_at is not a time';
  if (row.publishTime !== null && !Number.isSafeInteger(row.publishTime)) return 'publish_time is not a time';
  for (const f of fields) {
    const v = row.fields[f.name] ?? null;
    if (v === null) {
      if (f.required) return `${f.name} is required`;
      continue;
    }
    const ok =
      f.type === 'string'
        ? typeof v === 'string'
        : f.type === 'boolean'
          ? typeof v === 'boolean'
          : f.type === 'number'
            ? typeof v === 'number' && Number.isFinite(v)
            : Number.isSafeInteger(v);
    if (!ok) return `${f.name} is not a ${f.type}`;
  }
  return null;
}

function appendEvent(a: DuckDBAppender, fields: FieldSpec[], row: EventRow): void {
  for (const f of fields) {
    const v = row.fields[f.name] ?? null;
    if (v === null) a.appendNull();
    else if (f.type === 'string') a.appendVarchar(v as string);
    else if (f.type === 'integer') a.appendBigInt(BigInt(v as number));
    else if (f.type === 'number') a.appendDouble(v as number);
    else if (f.type === 'boolean') a.appendBoolean(v as boolean);
    else appendTimestamp(a, v as number);
  }
  a.appendVarchar(row.eventId);
  appendTimestamp(a, row.publishTime);
  appendTimestamp(a, row.ingestedAt);
  a.endRow();
}

function appendRejected(a: DuckDBAppender, r: RejectedRow): void {
  a.appendVarchar(r.messageId);
  if (r.eventId === null) a.appendNull();
  else a.appendVarchar(r.eventId);
  a.appendVarchar(r.code);
  a.appendVarchar(r.detail);
  if (r.payload === null) a.appendNull();
  else a.appendBlob(r.payload);
  a.appendVarchar(JSON.stringify(r.attributes));
  appendTimestamp(a, r.publishTime);
  appendTimestamp(a, r.receivedAt);
  a.endRow();
}

/** Per dataset, on the write connection: the appenders a batch goes through. */
interface Writers {
  fields: FieldSpec[];
  events: DuckDBAppender;
  rejected: DuckDBAppender;
  /** Finds which of some event ids are stored already (at most LOOKUP_IDS of them). */
  lookup: (n: number) => string;
}

// Bound parameters per lookup query; larger batches take several.
const LOOKUP_IDS = 1000;

async function createWriters(conn: DuckDBConnection, schema: DatasetSchema): Promise<Writers> {
  const names = tableNames(schema);
  const id = dialect.column('event_id');
  const from = dialect.table(names.events);
  return {
    fields: schema.fields,
    events: await conn.createAppender(names.events),
    rejected: await conn.createAppender(names.rejected),
    lookup: (n) =>
      `SELECT ${id} FROM ${from} WHERE ${id} IN (${Array.from({ length: n }, (_, k) => `$${k + 1}`).join(', ')})`,
  };
}

/** Drops rows still buffered (closing flushes, which after a rollback would commit a partial batch). */
function discardWriters(w: Writers): void {
  for (const a of [w.events, w.rejected]) {
    try {
      a.clear();
      a.closeSync();
    } catch {
      // An appender broken by a failed batch is dropped all the same.
    }
  }
}

const DUPLICATE_KEY = /Duplicate key|violates primary key/i;

interface Pool {
  acquire(): Promise<DuckDBConnection>;
  release(conn: DuckDBConnection): void;
  /** Refuses new work, waits for connections in use, then closes them all. */
  close(): Promise<void>;
}

function createPool(open: () => Promise<DuckDBConnection>, size: number): Pool {
  const all: DuckDBConnection[] = [];
  const idle: DuckDBConnection[] = [];
  const waiting: Array<{ resolve(c: DuckDBConnection): void; reject(e: unknown): void }> = [];
  let opening = 0;
  let closing = false;
  let drained: (() => void) | undefined;
  const closedError = () => new DuctoError('warehouse_unavailable', 'the DuckDB store is closed');
  return {
    async acquire() {
      if (closing) throw closedError();
      const conn = idle.pop();
      if (conn) return conn;
      if (all.length + opening >= size)
        return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
      opening++;
      try {
        const created = await open();
        all.push(created);
        return created;
      } finally {
        opening--;
      }
    },
    release(conn) {
      const next = waiting.shift();
      if (next) return next.resolve(conn);
      idle.push(conn);
      if (closing && idle.length === all.length) drained?.();
    },
    async close() {
      closing = true;
      for (const w of waiting.splice(0)) w.reject(closedError());
      if (idle.length !== all.length) await new Promise<void>((resolve) => (drained = resolve));
      for (const c of all) c.closeSync();
    },
  };
}

/**
 * The Warehouse port on DuckDB. The caller passes the instance in (see openDuckDB): one connection
 * writes, one batch at a time; reads use a pool of other connections, and each stream its own, so a
 * long export never waits behind a write or holds a pooled connection.
 */
export function createDuckDBStore(instance: DuckDBInstance, options: DuckDBStoreOptions = {}): Warehouse {
  const closeInstance = options.closeInstance ?? opened.has(instance);
  const schemas = new Map<string, DatasetSchema>();
  const writers = new Map<string, Writers>();
  const streams = new Set<DuckDBConnection>();
  const pool = createPool(() => instance.connect(), options.readConnections ?? 4);
  let writer: Promise<DuckDBConnection> | undefined;
  let tail: Promise<unknown> = Promise.resolve();
  let closed = false;

  const closedError = () => new DuctoError('warehouse_unavailable', 'the DuckDB store is closed');
  function checkOpen(): void {
    if (closed) throw closedError();
  }

  /** Runs write-side work strictly one at a time on the writer connection. */
  function serialize<T>(doing: string, work: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    if (closed) return Promise.reject(closedError());
    const run = tail.then(async () => {
      try {
        writer ??= instance.connect().catch((e: unknown) => {
          // A connection that failed to open is tried again by the next write.
          writer = undefined;
          throw e;
        });
        return await work(await writer);
      } catch (e) {
        throw failure(e, doing);
      }
    });
    tail = run.catch(() => undefined);
    return run;
  }

  async function read<T>(doing: string, work: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    checkOpen();
    let conn: DuckDBConnection | undefined;
    try {
      conn = await pool.acquire();
      return await work(conn);
    } catch (e) {
      throw failure(e, doing);
    } finally {
      if (conn) pool.release(conn);
    }
  }

  async function query(doing: string, q: CompiledQuery): Promise<Record<string, Value>[]> {
    return read(doing, async (conn) => {
      const reader = await conn.runAndReadAll(q.sql, ...bind(q.params));
      return toObjects(reader.deduplicatedColumnNames(), reader.getRows());
    });
  }

  async function writersFor(conn: DuckDBConnection, schema: DatasetSchema): Promise<Writers> {
    let w = writers.get(schema.name);
    if (!w) {
      w = await createWriters(conn, schema);
      writers.set(schema.name, w);
    }
    return w;
  }

  /** Runs `work` in one transaction; on failure discards the appenders' buffers and rolls back. */
  async function transaction<T>(
    conn: DuckDBConnection,
    schema: DatasetSchema,
    work: (w: Writers) => Promise<T>,
  ) {
    await conn.run('BEGIN TRANSACTION').catch(async (e: unknown) => {
      // A transaction left open by a failure we did not foresee must not wedge every later write.
      if (!(e instanceof Error && /transaction/i.test(e.message))) throw e;
      await conn.run('ROLLBACK');
      await conn.run('BEGIN TRANSACTION');
    });
    try {
      const result = await work(await writersFor(conn, schema));
      // DuckDB has written the commit to its WAL when this resolves: the batch is durable from here.
      await conn.run('COMMIT');
      return result;
    } catch (e) {
      const w = writers.get(schema.name);
      writers.delete(schema.name);
      if (w) discardWriters(w);
      await conn.run('ROLLBACK').catch(() => undefined);
      throw e;
    }
  }

  function append(w: Writers, rows: EventRow[], rejected: RejectedRow[]): void {
    if (rows.length > 0) {
      for (const row of rows) appendEvent(w.events, w.fields, row);
      w.events.flushSync();
    }
    if (rejected.length > 0) {
      for (const r of rejected) appendRejected(w.rejected, r);
      w.rejected.flushSync();
    }
  }

  async function storedIds(conn: DuckDBConnection, w: Writers, ids: string[]): Promise<Set<string>> {
    const stored = new Set<string>();
    for (let i = 0; i < ids.length; i += LOOKUP_IDS) {
      const part = ids.slice(i, i + LOOKUP_IDS);
      const reader = await conn.runAndReadAll(w.lookup(part.length), part);
      for (const [id] of reader.getRows()) stored.add(id as string);
    }
    return stored;
  }

  async function writeBatch(conn: DuckDBConnection, batch: WriteBatch): Promise<WriteResult> {
    const schema = schemas.get(batch.dataset);
    if (!schema) throw new DuctoError('internal', `dataset ${batch.dataset} was not ensured on this store`);
    const refused: WriteResult['refused'] = [];
    const seen = new Set<string>();
    const rows: EventRow[] = [];
    for (const row of batch.rows) {
      // The appender refuses a batch holding one key twice: keep the first.
      if (seen.has(row.eventId)) continue;
      seen.add(row.eventId);
      const problem = rowProblem(schema.fields, row);
      if (problem === null) rows.push(row);
      else
        refused.push({
          eventId: row.eventId,
          code: 'warehouse_rejected' satisfies RejectCode,
          detail: problem,
        });
    }
    try {
      // Redeliveries are the exception: append the batch as it is and let the primary key refuse it
      // when an event is stored already. (INSERT … ON CONFLICT costs twice as much on every batch.)
      await transaction(conn, schema, async (w) => append(w, rows, batch.rejected));
      return { inserted: new Set(rows.map((r) => r.eventId)), refused };
    } catch (e) {
      if (!(e instanceof Error && DUPLICATE_KEY.test(e.message))) throw e;
    }
    // Writes are serialized on this connection, so nothing can store an id between lookup and append.
    const inserted = await transaction(conn, schema, async (w) => {
      const stored = await storedIds(
        conn,
        w,
        rows.map((r) => r.eventId),
      );
      const fresh = rows.filter((r) => !stored.has(r.eventId));
      append(w, fresh, batch.rejected);
      return new Set(fresh.map((r) => r.eventId));
    });
    return { inserted, refused };
  }

  return {
    kind: 'duckdb',

    ensure(list) {
      return serialize('ensure', async (conn) => {
        for (const schema of list) {
          const ddl = duckdbDdl(schema);
          await conn.run(ddl.events);
          await conn.run(ddl.rejected);
          schemas.set(schema.name, schema);
        }
      });
    },

    write(batch) {
      return serialize('write', (conn) => writeBatch(conn, batch));
    },

    async list(schema, q) {
      return (await query('list', compileList(dialect, schema, q))) as StoredEvent[];
    },

    async *stream(schema, q) {
      checkOpen();
      const compiled = compileList(dialect, schema, q);
      let conn: DuckDBConnection | undefined;
      try {
        conn = await instance.connect();
        streams.add(conn);
        const result = await conn.stream(compiled.sql, ...bind(compiled.params));
        const names = result.deduplicatedColumnNames();
        for (;;) {
          // One chunk (≤ 2048 rows) at a time, fetched only when the consumer asks for more.
          const chunk = await result.fetchChunk();
          if (!chunk || chunk.rowCount === 0) return;
          yield toObjects(names, chunk.getRows()) as StoredEvent[];
        }
      } catch (e) {
        throw failure(e, 'stream');
      } finally {
        if (conn && streams.delete(conn)) conn.closeSync();
      }
    },

    async get(schema, eventId) {
      const rows = await query('get', compileGet(dialect, schema, eventId));
      return (rows[0] as StoredEvent | undefined) ?? null;
    },

    stats(schema, q) {
      return query('stats', compileStats(dialect, schema, q));
    },

    async freshness(schema) {
      const [row] = await query('freshness', compileFreshness(dialect, schema));
      return {
        newestEventTime: (row?.newest_event_time as number | null) ?? null,
        newestIngestedAt: (row?.newest_ingested_at as number | null) ?? null,
      };
    },

    async count(schema) {
      const [row] = await query('count', compileCount(dialect, schema));
      return row?.count as number;
    },

    async rejected(schema, limit) {
      if (!Number.isSafeInteger(limit) || limit < 0)
        throw new DuctoError('internal', 'limit must be an integer ≥ 0');
      const sql =
        'SELECT message_id, event_id, code, detail, payload, CAST(attributes AS VARCHAR), publish_time, received_at ' +
        `FROM ${dialect.table(tableNames(schema).rejected)} ORDER BY received_at DESC, message_id DESC LIMIT ${limit}`;
      return read('rejected', async (conn) => {
        const reader = await conn.runAndReadAll(sql);
        return reader
          .getRows()
          .map(([messageId, eventId, code, detail, payload, attributes, publishTime, receivedAt]) => ({
            messageId: messageId as string,
            eventId: eventId as string | null,
            code: code as RejectCode,
            detail: detail as string,
            payload: payload instanceof DuckDBBlobValue ? payload.bytes : null,
            attributes: JSON.parse(attributes as string) as Record<string, string>,
            publishTime: toValue(publishTime!) as Micros | null,
            receivedAt: toValue(receivedAt!) as Micros,
          }));
      });
    },

    async ping() {
      await read('ping', (conn) => conn.run('SELECT 1'));
    },

    async close() {
      if (closed) return;
      closed = true;
      await tail;
      for (const w of writers.values()) discardWriters(w);
      writers.clear();
      if (writer) (await writer.catch(() => undefined))?.closeSync();
      // Closing a connection under a running fetch is unsafe: interrupt, and the stream's own
      // `finally` closes it when its consumer resumes or goes away.
      for (const conn of streams) conn.interrupt();
      await pool.close();
      if (closeInstance) instance.closeSync();
    },
  };
}
