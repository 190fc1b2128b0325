import type { DatasetSchema, FieldSpec } from './dataset-schema.ts';
import { DuctoError } from './errors.ts';
import type { Value } from './record.ts';
import { createTimeParser, type Micros } from './time.ts';
import type { Filter, FilterOp, ListQuery, StatsQuery } from './warehouse.ts';

export const MAX_LIMIT = 1000;
export const DEFAULT_LIMIT = 100;
const MAX_VALUES = 100;
const MAX_VALUE_LENGTH = 256;
const MAX_GROUP_BY = 3;
const RANGE_OPS = ['gt', 'gte', 'lt', 'lte'] as const;

export interface ParsedList {
  query: ListQuery;
  cursor: string | null;
  /** Parts that identify the result set (dataset, filters, order): what a cursor is bound to. */
  identity: string[];
}

function bad(message: string, parameter: string): DuctoError {
  return new DuctoError('bad_parameter', message, { details: { parameter: parameter.slice(0, 64) } });
}

/**
 * Splits a raw query string into parameters, refusing what a lenient parser would silently accept:
 * repeated parameters, bad percent-encoding, invalid UTF-8, control characters.
 */
export function parseParams(raw: string, maxLength: number): Map<string, string> {
  if (raw.length > maxLength)
    throw new DuctoError('query_too_large', `the query string exceeds ${maxLength} characters`);
  const params = new Map<string, string>();
  if (raw === '') return params;
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawKey = eq === -1 ? pair : pair.slice(0, eq);
    const rawValue = eq === -1 ? '' : pair.slice(eq + 1);
    let key: string;
    let value: string;
    try {
      key = decodeURIComponent(rawKey.replace(/\+/g, ' '));
      value = decodeURIComponent(rawValue.replace(/\+/g, ' '));
    } catch {
      throw new DuctoError('bad_request', 'the query string has invalid percent-encoding or UTF-8');
    }
    if (/[\u0000-\u001f\u007f]/.test(key) || /[\u0000-\u001f\u007f]/.test(value)) {
      throw new DuctoError('bad_request', 'the query string has control characters');
    }
    if (params.has(key)) throw bad(`"${key}" is given more than once; use a comma-separated list`, key);
    params.set(key, value);
  }
  return params;
}

// Compiled once per schema, not per request.
const timeParsers = new WeakMap<DatasetSchema, (s: string) => Micros | null>();
const patterns = new Map<string, RegExp>();

function patternOf(source: string): RegExp {
  let re = patterns.get(source);
  if (!re) {
    re = new RegExp(source, 'u');
    patterns.set(source, re);
  }
  return re;
}

function timeParserOf(schema: DatasetSchema): (s: string) => Micros | null {
  let parse = timeParsers.get(schema);
  if (!parse) {
    const parser = createTimeParser(schema.time.formats);
    parse = (s) => {
      const r = parser(s);
      return r.ok ? r.micros : null;
    };
    timeParsers.set(schema, parse);
  }
  return parse;
}

function parseValue(
  field: FieldSpec,
  raw: string,
  parameter: string,
  parseTime: (s: string) => Micros | null,
): Value {
  if (raw.length === 0) throw bad(`${parameter} is empty`, parameter);
  if (raw.length > MAX_VALUE_LENGTH)
    throw bad(`${parameter} is longer than ${MAX_VALUE_LENGTH} characters`, parameter);
  switch (field.type) {
    case 'string':
      if (field.maxLength !== undefined && raw.length > field.maxLength) {
        throw bad(
          `${parameter}: "${raw.slice(0, 32)}" is longer than ${field.maxLength} characters`,
          parameter,
        );
      }
      if (field.pattern !== undefined && !patternOf(field.pattern).test(raw)) {
        throw bad(`${parameter}: "${raw.slice(0, 32)}" does not match ${field.pattern}`, parameter);
      }
      if (field.enum !== undefined && !field.enum.includes(raw)) {
        throw bad(`${parameter}: "${raw.slice(0, 32)}" is not one of ${field.enum.join(', ')}`, parameter);
      }
      return raw;
    case 'integer':
    case 'number': {
      // Number() accepts "", "0x10", " 1 " and "Infinity": require a plain decimal literal.
      if (!/^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/.test(raw))
        throw bad(`${parameter} must be a number`, parameter);
      const n = Number(raw);
      if (!Number.isFinite(n)) throw bad(`${parameter} is out of range`, parameter);
      if (field.type === 'integer' && !Number.isSafeInteger(n))
        throw bad(`${parameter} must be an integer within ±2^53`, parameter);
      return n;
    }
    case 'boolean':
      if (raw !== 'true' && raw !== 'false') throw bad(`${parameter} must be true or false`, parameter);
      return raw === 'true';
    case 'timestamp': {
      const t = parseTime(raw);
      if (t === null) throw bad(`${parameter} must be an ISO 8601 time`, parameter);
      return t;
    }
  }
}

/** Parses and validates the filters shared by the list, stream and stats routes. */
function parseFilters(
  schema: DatasetSchema,
  params: Map<string, string>,
  allowed: Set<string>,
): { filters: Filter[]; identity: string[] } {
  const parseTime = timeParserOf(schema);
  const fields = new Map(schema.fields.map((f) => [f.name, f]));
  const dims = new Set(schema.dimensions);
  const ranged = new Set([...schema.measures, schema.time.field]);
  const filters: Filter[] = [];
  const timeField = fields.get(schema.time.field)!;

  for (const [name, raw] of params) {
    if (allowed.has(name)) continue;
    if (name === 'from' || name === 'to') {
      const op: FilterOp = name === 'from' ? 'gte' : 'lt';
      filters.push({ field: schema.time.field, op, values: [parseValue(timeField, raw, name, parseTime)] });
      continue;
    }
    if (dims.has(name)) {
      const parts = raw.split(',');
      if (parts.length > MAX_VALUES) throw bad(`${name} takes at most ${MAX_VALUES} values`, name);
      const values = [...new Set(parts)].map((p) => parseValue(fields.get(name)!, p, name, parseTime));
      filters.push({ field: name, op: 'in', values });
      continue;
    }
    const dot = name.lastIndexOf('.');
    const base = dot === -1 ? name : name.slice(0, dot);
    const op = dot === -1 ? '' : name.slice(dot + 1);
    if (ranged.has(base) && (RANGE_OPS as readonly string[]).includes(op)) {
      filters.push({
        field: base,
        op: op as FilterOp,
        values: [parseValue(fields.get(base)!, raw, name, parseTime)],
      });
      continue;
    }
    throw new DuctoError('unknown_parameter', `"${name.slice(0, 64)}" is not a parameter of ${schema.name}`, {
      details: { parameter: name.slice(0, 64) },
    });
  }

  // Contradictory bounds are a client error, not an empty page that hides a typo.
  const lower = new Map<string, number>();
  const upper = new Map<string, number>();
  for (const f of filters) {
    const v = f.values[0] as number;
    if (f.op === 'gt' || f.op === 'gte') lower.set(f.field, Math.max(lower.get(f.field) ?? -Infinity, v));
    if (f.op === 'lt' || f.op === 'lte') upper.set(f.field, Math.min(upper.get(f.field) ?? Infinity, v));
  }
  for (const [field, lo] of lower) {
    const hi = upper.get(field);
    if (hi !== undefined && lo > hi) {
      throw bad(
        `the lower bound of ${field} is above its upper bound`,
        field === schema.time.field ? 'from' : field,
      );
    }
  }

  filters.sort((a, b) => (a.field === b.field ? a.op.localeCompare(b.op) : a.field.localeCompare(b.field)));
  const identity = filters.map((f) => `${f.field}.${f.op}=${JSON.stringify(f.values)}`);
  return { filters, identity };
}

const LIST_PARAMS = new Set(['limit', 'cursor', 'order', 'fields']);
const STATS_PARAMS = new Set(['group_by', 'bucket']);

export function parseListQuery(
  schema: DatasetSchema,
  params: Map<string, string>,
  stream: boolean,
): ParsedList {
  const { filters, identity } = parseFilters(schema, params, LIST_PARAMS);
  const order = params.get('order') ?? 'asc';
  if (order !== 'asc' && order !== 'desc') throw bad('order must be asc or desc', 'order');

  let limit: number | null = DEFAULT_LIMIT;
  const rawLimit = params.get('limit');
  if (rawLimit !== undefined) {
    if (!/^\d{1,7}$/.test(rawLimit) || Number(rawLimit) < 1 || Number(rawLimit) > MAX_LIMIT) {
      throw bad(`limit must be an integer from 1 to ${MAX_LIMIT}`, 'limit');
    }
    limit = Number(rawLimit);
  }
  // A stream is the whole result unless the client asks for a limit.
  if (stream && rawLimit === undefined) limit = null;

  let fields: string[] | null = null;
  const rawFields = params.get('fields');
  if (rawFields !== undefined) {
    const names = rawFields.split(',');
    const known = new Set(schema.fields.map((f) => f.name));
    for (const n of names) {
      if (n === 'event_id') continue;
      if (!known.has(n)) throw bad(`fields: "${n.slice(0, 64)}" is not a field of ${schema.name}`, 'fields');
    }
    if (new Set(names).size !== names.length) throw bad('fields lists a field twice', 'fields');
    fields = names.filter((n) => n !== 'event_id');
  }

  return {
    query: { filters, order, limit, after: null, fields },
    cursor: params.get('cursor') ?? null,
    identity: [schema.name, order, ...identity],
  };
}

export function parseStatsQuery(schema: DatasetSchema, params: Map<string, string>): StatsQuery {
  const { filters } = parseFilters(schema, params, STATS_PARAMS);
  const groupBy: string[] = [];
  const rawGroup = params.get('group_by');
  if (rawGroup !== undefined) {
    for (const g of rawGroup.split(',')) {
      if (!schema.dimensions.includes(g)) {
        throw bad(
          `group_by: "${g.slice(0, 64)}" is not a dimension of ${schema.name} (${schema.dimensions.join(', ')})`,
          'group_by',
        );
      }
      if (groupBy.includes(g)) throw bad('group_by lists a dimension twice', 'group_by');
      groupBy.push(g);
    }
    if (groupBy.length > MAX_GROUP_BY)
      throw bad(`group_by takes at most ${MAX_GROUP_BY} dimensions`, 'group_by');
  }
  const bucket = params.get('bucket') ?? null;
  if (bucket !== null && bucket !== 'hour' && bucket !== 'day')
    throw bad('bucket must be hour or day', 'bucket');
  return { filters, groupBy, bucket };
}
