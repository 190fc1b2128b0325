/** How DuckDB's failures become ducto's: the database failing, a duplicate key, a broken connection. */
import { DuctoError } from '../../core/errors.ts';

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

/** A failure after which a writer connection's transaction state is unknown: the connection is dropped. */
export class Broken extends Error {
  constructor(override readonly cause: unknown) {
    super('the connection could not end its transaction');
  }
}

// An event id stored already, by a committed write (raised by the INSERT) or by a concurrent one that
// committed first (raised by our COMMIT: "Failed to commit: PRIMARY KEY or UNIQUE constraint violation").
export const DUPLICATE_KEY = /Duplicate key|violates primary key|constraint violation|conflict/i;
