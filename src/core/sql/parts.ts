/**
 * What every compiled query is made of: typed parameters with their placeholders, the partition range a
 * dialect imposes, and the WHERE and LIMIT clauses. compile.ts (events) and rejected.ts use them.
 */
import { DuctoError } from '../errors.ts';
import type { Dialect } from './dialect.ts';
import type { RangeScope, TimeBounds, TimeRange } from './partition-range.ts';

export type ParamType = 'STRING' | 'INT64' | 'FLOAT64' | 'BOOL' | 'TIMESTAMP';

/** A bound parameter; a TIMESTAMP carries epoch microseconds. */
export interface QueryParam {
  name: string;
  value: string | number | boolean | null;
  type: ParamType;
}

/** SQL text holding only schema identifiers and placeholders; every value is in `params`. */
export interface CompiledQuery {
  sql: string;
  params: QueryParam[];
}

export function bad(message: string): DuctoError {
  return new DuctoError('bad_parameter', message);
}

/** Collects parameters and hands out their placeholders (p0, p1, …) in order of appearance. */
export class Params {
  readonly list: QueryParam[] = [];
  constructor(private readonly dialect: Dialect) {}

  add(value: QueryParam['value'], type: ParamType): string {
    const name = `p${this.list.length}`;
    this.list.push({ name, value, type });
    return this.dialect.placeholder(name);
  }
}

export function rangeOf(d: Dialect, scope: RangeScope, bounds: TimeBounds): TimeRange | null {
  return d.partitions ? d.partitions.policy.range(scope, bounds) : null;
}

export function limitClause(d: Dialect, params: Params, limit: number): string {
  if (!Number.isSafeInteger(limit) || limit < 1) throw bad('limit must be a positive integer');
  return `\nLIMIT ${d.bindLimit ? params.add(limit, 'INT64') : limit}`;
}

export function where(conditions: string[]): string {
  return conditions.length === 0 ? '' : `\nWHERE ${conditions.join('\n  AND ')}`;
}
