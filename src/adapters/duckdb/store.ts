/**
 * The Warehouse port on DuckDB: the write algorithm (a fast path for new ids, a slow path when a batch
 * holds ids stored already) and the reads, on pools of writer and reader connections.
 */
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { DatasetSchema } from '../../core/dataset-schema.ts';
import { duckdbDdl } from '../../core/derive/duckdb-ddl.ts';
import { DuctoError } from '../../core/errors.ts';
import type { Value } from '../../core/record.ts';
import { screenBatch } from '../../core/row-check.ts';
import * as sql from '../../core/sql/compile.ts';
import { duckdbDialect as dialect } from '../../core/sql/dialect.ts';
import * as rejectedSql from '../../core/sql/rejected.ts';
import type {
  EventRow,
  RejectedRow,
  StoredEvent,
  Warehouse,
  WriteBatch,
  WriteResult,
} from '../../core/warehouse.ts';
import { Broken, DUPLICATE_KEY, duckdbFailure } from './errors.ts';
import {
  bindColumns,
  eventArrays,
  prepareStatements,
  rejectedArrays,
  type Statements,
  text,
} from './insert.ts';
import { opened } from './open.ts';
import { createPool } from './pool.ts';
import { bind, rejectedRowOf, toObjects } from './values.ts';

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

// Attempts of the slow path when concurrent writes keep holding ids of this batch.
const FRESH_ATTEMPTS = 8;

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

  async function query(doing: string, q: sql.CompiledQuery): Promise<Record<string, Value>[]> {
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
    const screened = screenBatch(schema.fields, batch.rows);
    const { refused } = screened;
    // Event ids as DuckDB stores them (well-formed), to the id the caller knows: two ids that differ
    // only in a lone surrogate are one key here.
    const ids = new Map<string, string>();
    const rows: EventRow[] = [];
    for (const row of screened.rows) {
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

  /** Rows of `<dataset>_rejected`. */
  function readRejectedRows(doing: string, q: sql.CompiledQuery): Promise<RejectedRow[]> {
    return read(doing, async (conn) =>
      (await conn.runAndReadAll(q.sql, ...bind(q.params))).getRows().map(rejectedRowOf),
    );
  }

  return {
    kind: 'duckdb',

    ensure(list) {
      return writeWith('ensure', async (conn) => {
        for (const schema of list) {
          const ddl = duckdbDdl(schema);
          await conn.run(ddl.events);
          await conn.run(ddl.rejected);
          for (const upgrade of ddl.upgrades) await conn.run(upgrade);
          schemas.set(schema.name, schema);
        }
      });
    },

    write(batch) {
      return writeWith('write', (conn) => writeBatch(conn, batch));
    },

    async list(schema, q) {
      return (await query('list', sql.compileList(dialect, schema, q))) as StoredEvent[];
    },

    async *stream(schema, q) {
      checkOpen();
      const compiled = sql.compileList(dialect, schema, q);
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
      const rows = await query('get', sql.compileGet(dialect, schema, eventId));
      return (rows[0] as StoredEvent | undefined) ?? null;
    },

    stats(schema, q) {
      return query('stats', sql.compileStats(dialect, schema, q));
    },

    async freshness(schema) {
      const [row] = await query('freshness', sql.compileFreshness(dialect, schema));
      return sql.readFreshness(row);
    },

    async count(schema) {
      const [row] = await query('count', sql.compileCount(dialect, schema));
      return row?.count as number;
    },

    rejected(schema, limit) {
      return readRejectedRows('rejected', rejectedSql.compileRejected(dialect, schema, limit));
    },

    replayable(schema, q) {
      return readRejectedRows('replayable', rejectedSql.compileReplayable(dialect, schema, q));
    },

    async markReplayed(schema, marks) {
      if (marks.length === 0) return;
      await writeWith('mark replayed', async (conn) => {
        for (const group of rejectedSql.groupReplayMarks(marks)) {
          const q = rejectedSql.compileMarkReplayed(dialect, schema, group);
          await conn.run(q.sql, ...bind(q.params));
        }
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
