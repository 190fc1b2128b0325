/** Query parameters to DuckDB values, and result rows back to plain values. */
import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  DuckDBBlobValue,
  DuckDBTimestampValue,
  type DuckDBType,
  type DuckDBValue,
  TIMESTAMP,
  VARCHAR,
} from '@duckdb/node-api';
import type { Value } from '../../core/record.ts';
import type { ParamType, QueryParam } from '../../core/sql/compile.ts';
import { REJECTED_SELECT, readRejected } from '../../core/sql/rejected.ts';
import type { RejectedRow } from '../../core/warehouse.ts';

const PARAM_TYPES: Record<ParamType, DuckDBType> = {
  STRING: VARCHAR,
  INT64: BIGINT,
  FLOAT64: DOUBLE,
  BOOL: BOOLEAN,
  TIMESTAMP,
};

export function bind(params: QueryParam[]): [Record<string, DuckDBValue>, Record<string, DuckDBType>] {
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

export function toValue(v: DuckDBValue): Value {
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  // BIGINT, and HUGEINT for sums: exact while below 2^53, the bound every stored integer respects.
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof DuckDBTimestampValue) return Number(v.micros);
  throw new Error(`unexpected DuckDB value of type ${v.constructor.name}`);
}

export function toObjects(names: string[], rows: DuckDBValue[][]): Record<string, Value>[] {
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

/** A row of the rejected-table queries; the payload is a BLOB, which the generic mapping does not take. */
export function rejectedRowOf(row: DuckDBValue[]): RejectedRow {
  const r: Record<string, unknown> = {};
  REJECTED_SELECT.forEach((name, i) => {
    r[name] = name === 'payload' ? null : toValue(row[i]!);
  });
  const payload = row[REJECTED_SELECT.indexOf('payload')];
  return readRejected(r, payload instanceof DuckDBBlobValue ? payload.bytes : null);
}
