import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  DuckDBBlobValue,
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBPreparedStatement,
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
import { eventProblem } from '../core/row-check.ts';
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
  /** Connections serving reads, apart from the writers (default 4). */
  readConnections?: number;
  /**
   * Writer connections, so batches in flight at once (default 2): one batch commits (an fsync) while
   * the next is sent. The batcher's concurrency (DUCTO_WRITE_CONCURRENCY) decides how many are used.
   * It pays when writes wait on the disk; when CPU is short it does not, as every transaction costs
   * a fixed few milliseconds of CPU and concurrent batches hold fewer rows each.
   */
  writeConnections?: number;
  /** Close the instance on `close()`. Default: only when `openDuckDB` opened it. */
  closeInstance?: boolean;
}

const opened = new WeakSet<DuckDBInstance>();

/**
 * Opens a DuckDB database file (creating its directory), or `:memory:`. A store given this instance
 * closes it on `close()`; an instance the caller created itself is left open for the caller to close.
 */
export async function openDuckDB(
  path: string,
  settings?: { threads: number; memoryLimit: string },
): Promise<{ instance: DuckDBInstance; path: string }> {
  try {
    if (!path.startsWith(':memory:')) mkdirSync(dirname(path), { recursive: true });
    const instance = await DuckDBInstance.create(
      path,
      settings && { threads: String(settings.threads), memory_limit: settings.memoryLimit },
    );
    opened.add(instance);
    return { instance, path };
  } catch (cause) {
    throw new DuctoError('warehouse_unavailable', `cannot open the DuckDB database ${path}`, { cause });
  }
}

// Failures of the database itself, as opposed to a bad statement (a bug, reported as it is).
// Memory refused under DUCTO_DUCKDB_MEMORY_LIMIT ("could not allocate block") is the store being
// full, not the row being wrong: the write is retried and, failing, left to Pub/Sub, never rejected.
const UNAVAILABLE =
  /^(IO|Connection|FATAL|Fatal|Interrupt|Out of Memory|Permission) Error|database has been invalidated|(connection|database)[^.]* closed|could not allocate/i;

/** A DuckDB error as ducto reports it: `warehouse_unavailable` when the database itself failed. */
export function duckdbFailure(e: unknown, doing: string): unknown {
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

/*
 * Rows travel to DuckDB as one VARCHAR parameter per column holding a JSON array, which the INSERT
 * decodes (`from_json`) and unnests on DuckDB's threads. The Node thread, which also serves HTTP, only
 * joins strings: an Appender's flush, or binding LIST parameters value by value, costs it several
 * times more per batch. Every value is exact: integers and timestamps (µs) are safe integers, doubles
 * are written in their shortest round-trip form, -0 included, and blobs go as base64.
 */

// Lone UTF-16 surrogates become U+FFFD, as Node's UTF-8 conversion (and so the Appender) makes them;
// a lone surrogate escaped in JSON would fail the whole batch.
const toWellFormed = (String.prototype as unknown as { toWellFormed(this: string): string }).toWellFormed;
const text = (s: string): string => toWellFormed.call(s);

type JsonKind = 'BIGINT' | 'DOUBLE' | 'BOOLEAN' | 'VARCHAR';
type Cell = string | number | boolean | null;

const json = {
  /** Safe integers, doubles, booleans: their JS text is their JSON text, except -0. */
  scalars(values: Cell[]): string {
    let out = '[';
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (i > 0) out += ',';
      out += v === null ? 'null' : Object.is(v, -0) ? '-0.0' : String(v);
    }
    return `${out}]`;
  },
  strings(values: Array<string | null>): string {
    return JSON.stringify(values.map((v) => (v === null ? null : text(v))));
  },
};

/** One column of an INSERT fed by JSON arrays: how to send it and how the SELECT converts it. */
interface Column {
  name: string;
  kind: JsonKind;
  /** The stored value from the decoded one (`c` is its placeholder). */
  convert: (c: string) => string;
}

const asIs = (c: string) => c;
const timestamp = (c: string) => `make_timestamp(${c})`;

function columnKind(type: FieldSpec['type']): Pick<Column, 'kind' | 'convert'> {
  switch (type) {
    case 'string':
      return { kind: 'VARCHAR', convert: asIs };
    case 'integer':
      return { kind: 'BIGINT', convert: asIs };
    case 'number':
      return { kind: 'DOUBLE', convert: asIs };
    case 'boolean':
      return { kind: 'BOOLEAN', convert: asIs };
    case 'timestamp':
      return { kind: 'BIGINT', convert: timestamp };
  }
}

/** `INSERT INTO table (columns) SELECT …` from one JSON-array parameter per column, zipped by UNNEST. */
function insertSql(table: string, columns: Column[], tail = ''): string {
  const names = columns.map((c) => dialect.column(c.name)).join(', ');
  const converted = columns.map((c, i) => c.convert(`c${i}`)).join(', ');
  // `$n::VARCHAR`: a parameter of unresolved type would make DuckDB plan the statement anew on each run.
  const unnested = columns
    .map((c, i) => `UNNEST(from_json($${i + 1}::VARCHAR, '["${c.kind}"]')) AS c${i}`)
    .join(', ');
  return `INSERT INTO ${dialect.table(table)} (${names}) SELECT ${converted} FROM (SELECT ${unnested})${tail}`;
}

interface Statements {
  fields: FieldSpec[];
  /** Appends events; fails on an event id stored already. */
  events: DuckDBPreparedStatement;
  /** Appends the events not stored already and returns their ids. */
  fresh: DuckDBPreparedStatement;
  rejected: DuckDBPreparedStatement;
}

function eventColumns(fields: FieldSpec[]): Column[] {
  return [
    ...fields.map((f) => ({ name: f.name, ...columnKind(f.type) })),
    { name: 'event_id', kind: 'VARCHAR', convert: asIs },
    { name: 'publish_time', kind: 'BIGINT', convert: timestamp },
    { name: 'ingested_at', kind: 'BIGINT', convert: timestamp },
  ];
}

const REJECTED_COLUMNS: Column[] = [
  { name: 'message_id', kind: 'VARCHAR', convert: asIs },
  { name: 'event_id', kind: 'VARCHAR', convert: asIs },
  { name: 'code', kind: 'VARCHAR', convert: asIs },
  { name: 'detail', kind: 'VARCHAR', convert: asIs },
  // BLOB bytes as base64: the JSON text stays ASCII whatever the payload holds.
  { name: 'payload', kind: 'VARCHAR', convert: (c) => `from_base64(${c})` },
  { name: 'attributes', kind: 'VARCHAR', convert: asIs },
  { name: 'publish_time', kind: 'BIGINT', convert: timestamp },
  { name: 'received_at', kind: 'BIGINT', convert: timestamp },
];

async function prepareStatements(conn: DuckDBConnection, schema: DatasetSchema): Promise<Statements> {
  const names = tableNames(schema);
  const columns = eventColumns(schema.fields);
  const prepared: DuckDBPreparedStatement[] = [];
  try {
    for (const sql of [
      insertSql(names.events, columns),
      insertSql(names.events, columns, ` ON CONFLICT DO NOTHING RETURNING ${dialect.column('event_id')}`),
      insertSql(names.rejected, REJECTED_COLUMNS),
    ])
      prepared.push(await conn.prepare(sql));
  } catch (e) {
    for (const p of prepared) p.destroySync();
    throw e;
  }
  const [events, fresh, rejected] = prepared as [
    DuckDBPreparedStatement,
    DuckDBPreparedStatement,
    DuckDBPreparedStatement,
  ];
  return { fields: schema.fields, events, fresh, rejected };
}

function bindColumns(statement: DuckDBPreparedStatement, columns: string[]): void {
  for (let i = 0; i < columns.length; i++) statement.bindVarchar(i + 1, columns[i]!);
}

function eventArrays(fields: FieldSpec[], rows: EventRow[]): string[] {
  const out: string[] = [];
  for (const f of fields) {
    const values = rows.map((r) => r.fields[f.name] ?? null);
    out.push(f.type === 'string' ? json.strings(values as Array<string | null>) : json.scalars(values));
  }
  out.push(json.strings(rows.map((r) => r.eventId)));
  out.push(json.scalars(rows.map((r) => r.publishTime)));
  out.push(json.scalars(rows.map((r) => r.ingestedAt)));
  return out;
}

function rejectedArrays(rows: RejectedRow[]): string[] {
  const base64 = (b: Uint8Array | null) =>
    b === null ? null : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
  const attributes = (a: Record<string, string>) =>
    // Well-formed keys and values: the JSON column refuses an escaped lone surrogate.
    JSON.stringify(Object.fromEntries(Object.entries(a).map(([k, v]) => [text(k), text(v)])));
  return [
    json.strings(rows.map((r) => r.messageId)),
    json.strings(rows.map((r) => r.eventId)),
    json.strings(rows.map((r) => r.code)),
    json.strings(rows.map((r) => r.detail)),
    json.strings(rows.map((r) => base64(r.payload))),
    json.strings(rows.map((r) => attributes(r.attributes))),
    json.scalars(rows.map((r) => r.publishTime)),
    json.scalars(rows.map((r) => r.receivedAt)),
  ];
}

// An event id stored already, by a committed write (raised by the INSERT) or by a concurrent one that
// committed first (raised by our COMMIT: "Failed to commit: PRIMARY KEY or UNIQUE constraint violation").
/** A failure after which a writer connection's transaction state is unknown: the connection is dropped. */
class Broken extends Error {
  constructor(override readonly cause: unknown) {
    super('the connection could not end its transaction');
  }
}

const DUPLICATE_KEY = /Duplicate key|violates primary key|constraint violation|conflict/i;
// Attempts of the slow path when concurrent writes keep holding ids of this batch.
const FRESH_ATTEMPTS = 8;

interface Pool {
  acquire(): Promise<DuckDBConnection>;
  /** Returns a connection; a `broken` one is closed and replaced by a new one when needed. */
  release(conn: DuckDBConnection, broken?: boolean): void;
  /**
   * Refuses new work, waits for connections in use (and, with `finishWaiting`, serves the callers
   * already waiting first), calls `closing` on each connection, then closes them all.
   */
  close(closing?: (conn: DuckDBConnection) => void): Promise<void>;
}

function createPool(open: () => Promise<DuckDBConnection>, size: number, finishWaiting = false): Pool {
  const all = new Set<DuckDBConnection>();
  const idle: DuckDBConnection[] = [];
  const waiting: Array<{ resolve(c: DuckDBConnection): void; reject(e: unknown): void }> = [];
  let opening = 0;
  let closing = false;
  let drained: (() => void) | undefined;
  const closedError = () => new DuctoError('warehouse_unavailable', 'the DuckDB store is closed');
  async function openOne(): Promise<DuckDBConnection> {
    opening++;
    try {
      const created = await open();
      all.add(created);
      return created;
    } finally {
      opening--;
    }
  }
  const settled = () => waiting.length === 0 && opening === 0 && idle.length === all.size;
  return {
    async acquire() {
      if (closing) throw closedError();
      const conn = idle.pop();
      if (conn) return conn;
      if (all.size + opening >= size)
        return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
      return openOne();
    },
    release(conn, broken = false) {
      if (broken) {
        all.delete(conn);
        try {
          conn.closeSync();
        } catch {
          // Dropped all the same.
        }
        const next = waiting.shift();
        if (next)
          openOne()
            .then(next.resolve, next.reject)
            .finally(() => closing && settled() && drained?.());
        else if (closing && settled()) drained?.();
        return;
      }
      const next = waiting.shift();
      if (next) return next.resolve(conn);
      idle.push(conn);
      if (closing && settled()) drained?.();
    },
    async close(closingConn) {
      closing = true;
      if (!finishWaiting) for (const w of waiting.splice(0)) w.reject(closedError());
      if (!settled()) await new Promise<void>((resolve) => (drained = resolve));
      for (const c of all) {
        closingConn?.(c);
        c.closeSync();
      }
      all.clear();
    },
  };
}

/**
 * The Warehouse port on DuckDB. The caller passes the instance in (see openDuckDB). Writes run on a
 * pool of writer connections, one batch per connection at a time, so that up to `writeConnections`
 * batches are in flight (one commits while the next is sent); reads use a pool of other connections,
 * and each stream its own, so a long export never waits behind a write or holds a pooled connection.
 */
export function createDuckDBStore(instance: DuckDBInstance, options: DuckDBStoreOptions = {}): Warehouse {
  const closeInstance = options.closeInstance ?? opened.has(instance);
  const schemas = new Map<string, DatasetSchema>();
  /** Prepared statements per writer connection and dataset. */
  const prepared = new Map<DuckDBConnection, Map<string, Statements>>();
  const streams = new Set<DuckDBConnection>();
  /** Fast-path writes in flight, which a slow-path write may wait out before it retries. */
  const fastWrites = new Set<Promise<void>>();
  /** Serializes slow-path writes (batches holding ids stored already), rare by design. */
  let slowTail: Promise<unknown> = Promise.resolve();
  const pool = createPool(() => instance.connect(), options.readConnections ?? 4);
  // Writes accepted before `close()` are finished by it, as a caller awaiting them expects.
  const writers = createPool(() => instance.connect(), Math.max(1, options.writeConnections ?? 2), true);
  let closed = false;

  const closedError = () => new DuctoError('warehouse_unavailable', 'the DuckDB store is closed');
  function checkOpen(): void {
    if (closed) throw closedError();
  }

  function forget(conn: DuckDBConnection): void {
    for (const s of prepared.get(conn)?.values() ?? [])
      for (const p of [s.events, s.fresh, s.rejected]) p.destroySync();
    prepared.delete(conn);
  }

  /** Runs write-side work on a writer connection of its own. */
  async function writeWith<T>(doing: string, work: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    checkOpen();
    let conn: DuckDBConnection | undefined;
    let broken = false;
    try {
      conn = await writers.acquire();
      return await work(conn);
    } catch (e) {
      // A connection whose transaction could not be ended must not serve an autocommit INSERT again.
      broken = e instanceof Broken;
      throw duckdbFailure(broken ? (e as Broken).cause : e, doing);
    } finally {
      if (conn) {
        if (broken) forget(conn);
        writers.release(conn, broken);
      }
    }
  }

  async function read<T>(doing: string, work: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    checkOpen();
    let conn: DuckDBConnection | undefined;
    try {
      conn = await pool.acquire();
      return await work(conn);
    } catch (e) {
      throw duckdbFailure(e, doing);
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

  async function statementsFor(conn: DuckDBConnection, schema: DatasetSchema): Promise<Statements> {
    let byDataset = prepared.get(conn);
    if (!byDataset) {
      byDataset = new Map();
      prepared.set(conn, byDataset);
    }
    let s = byDataset.get(schema.name);
    if (!s) {
      s = await prepareStatements(conn, schema);
      byDataset.set(schema.name, s);
    }
    return s;
  }

  /** Runs `work` in one explicit transaction, rolled back when anything fails. */
  async function transaction<T>(conn: DuckDBConnection, work: () => Promise<T>): Promise<T> {
    await conn.run('BEGIN TRANSACTION');
    try {
      const result = await work();
      // DuckDB has written the commit to its WAL when this resolves: the batch is durable from here.
      await conn.run('COMMIT');
      return result;
    } catch (e) {
      // A failed COMMIT has ended the transaction already; any other failure to end it is fatal to
      // the connection, whose next autocommit INSERT would otherwise join a transaction never committed.
      await conn.run('ROLLBACK').catch((r: unknown) => {
        if (!(r instanceof Error && /no transaction is active/i.test(r.message))) throw new Broken(e);
      });
      throw e;
    }
  }

  /** Writes every row (none stored yet, as far as this write knows) in one transaction. */
  async function appendAll(conn: DuckDBConnection, s: Statements, rows: EventRow[], rejected: RejectedRow[]) {
    if (rows.length > 0) bindColumns(s.events, eventArrays(s.fields, rows));
    if (rejected.length === 0) {
      // One autocommit statement: committed, and durable, when it resolves.
      await s.events.run();
      return;
    }
    await transaction(conn, async () => {
      if (rows.length > 0) await s.events.run();
      bindColumns(s.rejected, rejectedArrays(rejected));
      await s.rejected.run();
    });
  }

  /** Writes the rows not stored already, in one transaction; returns the ids as stored. */
  async function appendFresh(
    conn: DuckDBConnection,
    s: Statements,
    rows: EventRow[],
    rejected: RejectedRow[],
  ): Promise<string[]> {
    const insert = async () => {
      if (rows.length === 0) return [];
      bindColumns(s.fresh, eventArrays(s.fields, rows));
      const reader = await s.fresh.runAndReadAll();
      return reader.getRows().map(([id]) => id as string);
    };
    if (rejected.length === 0) return insert();
    return transaction(conn, async () => {
      const ids = await insert();
      bindColumns(s.rejected, rejectedArrays(rejected));
      await s.rejected.run();
      return ids;
    });
  }

  async function writeBatch(conn: DuckDBConnection, batch: WriteBatch): Promise<WriteResult> {
    const schema = schemas.get(batch.dataset);
    if (!schema) throw new DuctoError('internal', `dataset ${batch.dataset} was not ensured on this store`);
    const refused: WriteResult['refused'] = [];
    const seen = new Set<string>();
    // Event ids as DuckDB stores them (well-formed), to the id the caller knows.
    const ids = new Map<string, string>();
    const rows: EventRow[] = [];
    for (const row of batch.rows) {
      // An INSERT holding one key twice fails: keep the first.
      if (seen.has(row.eventId)) continue;
      seen.add(row.eventId);
      const problem = eventProblem(schema.fields, row);
      if (problem !== null) {
        refused.push({
          eventId: row.eventId,
          code: 'warehouse_rejected' satisfies RejectCode,
          detail: problem,
        });
        continue;
      }
      const id = text(row.eventId);
      if (ids.has(id)) continue;
      ids.set(id, row.eventId);
      rows.push(row);
    }
    if (rows.length === 0 && batch.rejected.length === 0) return { inserted: new Set(), refused };
    const s = await statementsFor(conn, schema);
    const fast = appendAll(conn, s, rows, batch.rejected);
    fastWrites.add(fast);
    try {
      // Redeliveries are the exception: insert the batch as it is and let the primary key refuse it
      // when an event is stored already (ON CONFLICT DO NOTHING costs several times more per batch).
      await fast;
      return { inserted: new Set(rows.map((r) => r.eventId)), refused };
    } catch (e) {
      if (!(e instanceof Error && DUPLICATE_KEY.test(e.message))) throw e;
    } finally {
      fastWrites.delete(fast);
    }
    // Some ids are stored, or held by a concurrent write: DuckDB refuses a key another transaction
    // has not committed yet, even under ON CONFLICT DO NOTHING, and a COMMIT that loses the race fails.
    // One such write at a time, each retry after the fast writes then in flight have ended.
    const run = slowTail.then(async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          const stored = await appendFresh(conn, s, rows, batch.rejected);
          return { inserted: new Set(stored.map((id) => ids.get(id) ?? id)), refused };
        } catch (e) {
          if (!(e instanceof Error && DUPLICATE_KEY.test(e.message)) || attempt >= FRESH_ATTEMPTS) throw e;
          await Promise.allSettled([...fastWrites]);
        }
      }
    });
    slowTail = run.catch(() => undefined);
    return run;
  }

  return {
    kind: 'duckdb',

    ensure(list) {
      return writeWith('ensure', async (conn) => {
        for (const schema of list) {
          const ddl = duckdbDdl(schema);
          await conn.run(ddl.events);
          await conn.run(ddl.rejected);
          schemas.set(schema.name, schema);
        }
      });
    },

    write(batch) {
      return writeWith('write', (conn) => writeBatch(conn, batch));
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
        throw duckdbFailure(e, 'stream');
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
      // Closing a connection under a running fetch is unsafe: interrupt, and the stream's own
      // `finally` closes it when its consumer resumes or goes away.
      for (const conn of streams) conn.interrupt();
      await writers.close(forget);
      await pool.close();
      if (closeInstance) instance.closeSync();
    },
  };
}
