/**
 * Opening a DuckDB database: a file (its directory made) or `:memory:`, with ducto's threads and
 * memory limit. A store given an instance opened here closes it on `close()`.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { DuctoError } from '../../core/errors.ts';

export const opened = new WeakSet<DuckDBInstance>();

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
