/** A bounded pool of DuckDB connections: readers, and writers that finish their queue on close. */
import type { DuckDBConnection } from '@duckdb/node-api';
import { DuctoError } from '../../core/errors.ts';

export interface Pool {
  acquire(): Promise<DuckDBConnection>;
  /** Returns a connection; a `broken` one is closed and replaced by a new one when needed. */
  release(conn: DuckDBConnection, broken?: boolean): void;
  /**
   * Refuses new work, waits for connections in use (and, with `finishWaiting`, serves the callers
   * already waiting first), calls `closing` on each connection, then closes them all.
   */
  close(closing?: (conn: DuckDBConnection) => void): Promise<void>;
}

export function createPool(open: () => Promise<DuckDBConnection>, size: number, finishWaiting = false): Pool {
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
