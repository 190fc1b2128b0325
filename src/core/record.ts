import type { ErrorObject } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { DatasetSchema } from './dataset-schema.ts';
import { recordJsonSchema } from './derive/json-schema.ts';
import type { RejectCode } from './errors.ts';
import { createTimeParser, type Micros } from './time.ts';

/** A field value as stored: timestamps as epoch microseconds. */
export type Value = string | number | boolean | null;
export type Fields = Record<string, Value>;

export type RecordResult =
  | { ok: true; fields: Fields; time: Micros; key: string | null }
  | { ok: false; code: RejectCode; detail: string; path?: string };

export interface RecordLimits {
  /** Largest message data accepted, in bytes. */
  maxBytes: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

function ajvCode(e: ErrorObject): RejectCode {
  switch (e.keyword) {
    case 'required':
      return 'missing_field';
    case 'additionalProperties':
      return 'unknown_field';
    case 'type':
      return 'wrong_type';
    case 'minimum':
    case 'maximum':
      return 'out_of_range';
    case 'maxLength':
      return 'too_long';
    default:
      return 'bad_format';
  }
}

function ajvDetail(e: ErrorObject): { path: string; detail: string } {
  if (e.keyword === 'required') {
    const p = (e.params as { missingProperty: string }).missingProperty;
    return { path: `/${p}`, detail: `"${p}" is required` };
  }
  if (e.keyword === 'additionalProperties') {
    const p = (e.params as { additionalProperty: string }).additionalProperty;
    return { path: `/${p}`, detail: `"${p.slice(0, 64)}" is not a field of this dataset` };
  }
  return { path: e.instancePath, detail: `${e.instancePath.slice(1)} ${e.message ?? 'is invalid'}` };
}

/**
 * Builds the decoder of one dataset: raw message bytes → a typed record, or a reject reason.
 * It never throws; every failure is a reason code with a human-readable detail.
 */
export function createRecordDecoder(
  schema: DatasetSchema,
  limits: RecordLimits,
): (data: Uint8Array) => RecordResult {
  // allErrors=false: the first error is enough for a reason code and costs less on hostile input.
  const ajv = new Ajv2020({ allErrors: false, strict: true });
  const validate = ajv.compile(recordJsonSchema(schema));
  const parseTime = createTimeParser(schema.time.formats);
  const timestamps = schema.fields.filter((f) => f.type === 'timestamp').map((f) => f.name);
  const timeField = schema.time.field;
  const keyField = schema.key;

  return (data) => {
    if (data.byteLength === 0)
      return { ok: false, code: 'empty_message', detail: 'the message data is empty' };
    if (data.byteLength > limits.maxBytes) {
      return {
        ok: false,
        code: 'oversize',
        detail: `${data.byteLength} bytes exceeds the limit of ${limits.maxBytes} (the first ${limits.maxBytes} bytes are kept)`,
      };
    }
    let text: string;
    try {
      text = utf8.decode(data);
    } catch {
      return { ok: false, code: 'invalid_utf8', detail: 'the message data is not valid UTF-8' };
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      return { ok: false, code: 'not_json', detail: (e as Error).message.slice(0, 200) };
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      return {
        ok: false,
        code: 'not_object',
        detail: `expected an object, got ${Array.isArray(parsed) ? 'an array' : parsed === null ? 'null' : typeof parsed}`,
      };
    }
    if (!validate(parsed)) {
      const e = validate.errors![0]!;
      const value = (parsed as Record<string, unknown>)[e.instancePath.slice(1)];
      // JSON numbers past the double range parse to ±Infinity: an overflow, not a type confusion.
      if (typeof value === 'number' && !Number.isFinite(value)) {
        return {
          ok: false,
          code: 'out_of_range',
          path: e.instancePath,
          detail: `${e.instancePath.slice(1)} overflows a 64-bit float`,
        };
      }
      return { ok: false, code: ajvCode(e), ...ajvDetail(e) };
    }
    const fields = parsed as Fields;
    for (const name of timestamps) {
      const v = fields[name];
      if (v === null || v === undefined) continue;
      const t = parseTime(v as string);
      if (!t.ok)
        return {
          ok: false,
          code: t.code,
          path: `/${name}`,
          detail: `${name} "${String(v).slice(0, 64)}" is not a valid time`,
        };
      fields[name] = t.micros;
    }
    const key = keyField === null ? null : String(fields[keyField]);
    return { ok: true, fields, time: fields[timeField] as number, key };
  };
}
