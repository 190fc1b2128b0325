/**
 * fast-check arbitraries shared by the property tests: valid records derived from a dataset schema,
 * their mutations with the reason code each must get, Pub/Sub deliveries (valid, random, damaged),
 * and query strings written every way a client may.
 */
import fc from 'fast-check';
import { DateTime, FixedOffsetZone } from 'luxon';
import { expect } from 'vitest';
import type { MicroBatcher } from '../../src/core/batcher.ts';
import { MAX_EVENT_ID } from '../../src/core/classify.ts';
import type { DatasetSchema, FieldSpec } from '../../src/core/dataset-schema.ts';
import { type Delivery, type decodeDelivery, encodePushEnvelope } from '../../src/core/delivery.ts';
import { DuctoError, ERROR_CODES, type ErrorCode } from '../../src/core/errors.ts';
import { createIngest, type IngestResult } from '../../src/core/ingest.ts';
import type { RecordResult, Value } from '../../src/core/record.ts';
import type { EventRow, RejectedRow } from '../../src/core/warehouse.ts';
import { MALFORMED } from '../helpers/malformed.ts';
import { allSchemas, flights } from '../helpers/schemas.ts';

export const schema = flights();
export const schemas = allSchemas();
export const MAX_MESSAGE_BYTES = 65_536;
export const MAX_QUERY_LENGTH = 4096;

export const utf8 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));
export const base64 = (b: Uint8Array | string): string => Buffer.from(b).toString('base64');

/** A thrown value that ducto classified: a DuctoError whose code is in the table, with that code's status. */
export function expectClassified(
  error: unknown,
  allowed?: (code: ErrorCode, status: number) => boolean,
): void {
  if (!(error instanceof DuctoError)) throw error;
  expect(Object.hasOwn(ERROR_CODES, error.code), `code ${error.code}`).toBe(true);
  expect(error.status).toBe(ERROR_CODES[error.code].status);
  if (allowed && !allowed(error.code, error.status)) throw error;
}

export const isClientError = (_: ErrorCode, status: number) => status >= 400 && status < 500;

export function isRejectCode(code: unknown): boolean {
  return (
    typeof code === 'string' &&
    Object.hasOwn(ERROR_CODES, code) &&
    ERROR_CODES[code as ErrorCode].disposition === 'reject'
  );
}

export const anyJson = fc.jsonValue({ maxDepth: 3 });

// ------------------------------------------------------------------------------------------------
// Valid records, derived from a dataset schema
// ------------------------------------------------------------------------------------------------

/** A field's value as a producer sends it (`json`) and as ducto must store it (`stored`). */
export type Sample = { json: unknown; stored: Value };

// Event times are epoch microseconds held in a double: a valid time is a safe integer of µs
// (years 1684 to 2255). A day of margin keeps sub-millisecond digits in range too.
export const DAY_MS = 86_400_000;
export const SAFE_MS = Math.floor(Number.MAX_SAFE_INTEGER / 1000) - DAY_MS;
export const instant = fc.integer({ min: -SAFE_MS, max: SAFE_MS });

/** A time in one of the spellings the schema accepts: ISO 8601 variants, or a declared source format. */
export function timeSample(formats: readonly string[]): fc.Arbitrary<Sample> {
  const utc = (ms: number) => DateTime.fromMillis(ms, { zone: 'utc' });
  return fc.oneof(
    instant.map((ms) => ({ json: new Date(ms).toISOString(), stored: ms * 1000 })),
    fc.tuple(instant, fc.integer({ min: 0, max: 999 })).map(([ms, us]) => ({
      json: `${new Date(ms).toISOString().slice(0, -1)}${String(us).padStart(3, '0')}Z`,
      stored: ms * 1000 + us,
    })),
    fc.tuple(instant, fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 })).map(([ms, offset]) => ({
      json: utc(ms).setZone(FixedOffsetZone.instance(offset)).toISO()!,
      stored: ms * 1000,
    })),
    instant.map((ms) => {
      const s = utc(ms).toFormat('yyyy-MM-dd HH:mm:ss');
      return { json: s, stored: Math.floor(ms / 1000) * 1_000_000 };
    }),
    ...formats.map((format) =>
      instant.map((ms) => {
        const s = utc(ms).toFormat(format);
        return { json: s, stored: DateTime.fromFormat(s, format, { zone: 'utc' }).toMillis() * 1000 };
      }),
    ),
  );
}

export function fieldSample(s: DatasetSchema, f: FieldSpec): fc.Arbitrary<Sample> {
  const same = (a: fc.Arbitrary<Value>) => a.map((v) => ({ json: v, stored: v }));
  switch (f.type) {
    case 'string':
      if (f.enum) return same(fc.constantFrom(...f.enum));
      if (f.pattern) {
        const max = f.maxLength ?? Number.POSITIVE_INFINITY;
        return same(fc.stringMatching(new RegExp(f.pattern, 'u')).filter((x) => x.length <= max));
      }
      return same(fc.string({ maxLength: f.maxLength ?? 64 }));
    case 'integer':
      return same(
        fc.integer({ min: f.minimum ?? Number.MIN_SAFE_INTEGER, max: f.maximum ?? Number.MAX_SAFE_INTEGER }),
      );
    case 'number':
      return same(
        fc
          .double({
            min: f.minimum ?? -Number.MAX_VALUE,
            max: f.maximum ?? Number.MAX_VALUE,
            noNaN: true,
            noDefaultInfinity: true,
          })
          .map((x) => (Object.is(x, -0) ? 0 : x)),
      );
    case 'boolean':
      return same(fc.boolean());
    case 'timestamp':
      return timeSample(f.name === s.time.field ? s.time.formats : []);
  }
}

/** A record the schema accepts, with the fields ducto must store for it. */
export function validRecord(
  s: DatasetSchema,
): fc.Arbitrary<{ record: Record<string, unknown>; stored: Record<string, Value> }> {
  const parts = s.fields.map((f) => {
    const sample = fieldSample(s, f);
    // An optional field may be absent, null, or set.
    const optional = fc.oneof(
      fc.constant({ json: undefined, stored: undefined }),
      fc.constant({ json: null, stored: null }),
      sample,
    );
    return (f.required ? sample : optional).map((v) => [f.name, v] as const);
  });
  return fc.tuple(...parts).map((entries) => {
    const record: Record<string, unknown> = {};
    const stored: Record<string, Value> = {};
    for (const [name, v] of entries) {
      if (v.json === undefined) continue;
      record[name] = v.json;
      stored[name] = v.stored as Value;
    }
    return { record, stored };
  });
}

export const validFlight = validRecord(schema);

// ------------------------------------------------------------------------------------------------
// Mutations of valid records, with the reason code each must get when it is known
// ------------------------------------------------------------------------------------------------

export const PLACEHOLDER = 'raw-json-placeholder';
export type Mutated = { bytes: Uint8Array; expected: readonly string[] | null; what: string };

export const fieldNames = schema.fields.map((f) => f.name);

/** A JSON value whose type differs from what the field declares. */
export function wrongTypeValue(f: FieldSpec): fc.Arbitrary<unknown> {
  const notInteger = fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Number.isInteger(x));
  const containers = [
    fc.array(anyJson, { maxLength: 3 }),
    fc.dictionary(fc.string(), anyJson, { maxKeys: 3 }),
  ];
  switch (f.type) {
    case 'string':
    case 'timestamp':
      return fc.oneof(fc.integer(), notInteger, fc.boolean(), ...containers);
    case 'integer':
      return fc.oneof(fc.string(), notInteger, fc.boolean(), ...containers);
    case 'number':
      return fc.oneof(fc.string(), fc.boolean(), ...containers);
    case 'boolean':
      return fc.oneof(fc.string(), fc.integer(), ...containers);
  }
}

export function outOfRangeValue(f: FieldSpec): fc.Arbitrary<number> {
  const above = fc.integer({ min: f.maximum! + 1, max: Number.MAX_SAFE_INTEGER });
  const below = fc.integer({ min: Number.MIN_SAFE_INTEGER, max: f.minimum! - 1 });
  return fc.oneof(above, below, fc.constantFrom(1e20, -1e20, 2 ** 53, -(2 ** 53)));
}

export const ranged = schema.fields.filter((f) => f.minimum !== undefined && f.maximum !== undefined);
export const required = schema.fields.filter((f) => f.required);

export const serialise = (record: Record<string, unknown>) => utf8(JSON.stringify(record));

export const mutatedFlight: fc.Arbitrary<Mutated> = fc.oneof(
  fc.tuple(validFlight, fc.constantFrom(...required)).map(([{ record }, f]) => {
    const { [f.name]: _, ...rest } = record;
    return { bytes: serialise(rest), expected: ['missing_field'], what: `without ${f.name}` };
  }),
  fc
    .tuple(
      validFlight,
      fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'event_id', 'Date', 'origin ')),
      anyJson,
    )
    .filter(([, key]) => !fieldNames.includes(key))
    .map(([{ record }, key, value]) => ({
      // A computed key is an own property even for "__proto__".
      bytes: serialise({ ...record, [key]: value }),
      expected: ['unknown_field'],
      what: `with unknown field ${JSON.stringify(key)}`,
    })),
  fc
    .tuple(validFlight, fc.constantFrom(...schema.fields))
    .chain(([r, f]) => wrongTypeValue(f).map((v) => [r, f, v] as const))
    .map(([{ record }, f, v]) => ({
      bytes: serialise({ ...record, [f.name]: v }),
      expected: ['wrong_type'],
      what: `${f.name} = ${JSON.stringify(v)}`,
    })),
  fc.tuple(validFlight, fc.constantFrom(...required)).map(([{ record }, f]) => ({
    bytes: serialise({ ...record, [f.name]: null }),
    expected: ['wrong_type'],
    what: `${f.name} = null`,
  })),
  fc
    .tuple(validFlight, fc.constantFrom(...ranged))
    .chain(([r, f]) => outOfRangeValue(f).map((v) => [r, f, v] as const))
    .map(([{ record }, f, v]) => ({
      bytes: serialise({ ...record, [f.name]: v }),
      expected: ['out_of_range'],
      what: `${f.name} = ${v}`,
    })),
  // Numbers no double holds: JSON.parse gives ±Infinity or a rounded integer.
  fc
    .tuple(
      validFlight,
      fc.constantFrom(...ranged),
      fc.constantFrom('1e400', '-1e400', '123456789012345678901234567890', '-9999999999999999999'),
    )
    .map(([{ record }, f, raw]) => ({
      bytes: utf8(JSON.stringify({ ...record, [f.name]: PLACEHOLDER }).replace(`"${PLACEHOLDER}"`, raw)),
      expected: ['out_of_range'],
      what: `${f.name} = ${raw}`,
    })),
  fc
    .tuple(
      validFlight,
      fc.constantFrom(...schema.fields.filter((f) => f.type === 'string' && f.maxLength !== undefined)),
    )
    .chain(([r, f]) =>
      fc.string({ minLength: f.maxLength! + 1, maxLength: f.maxLength! + 8 }).map((v) => [r, f, v] as const),
    )
    .map(([{ record }, f, v]) => ({
      bytes: serialise({ ...record, [f.name]: v }),
      expected: ['too_long', 'bad_format'],
      what: `${f.name} = ${JSON.stringify(v)}`,
    })),
  // Any value at all in a declared field: accepted or classified, nothing else.
  fc
    .tuple(
      validFlight,
      fc.constantFrom(...fieldNames),
      fc.oneof(
        anyJson,
        fc.string({ unit: 'binary', maxLength: 80 }),
        fc.constantFrom(
          "2001-01-01'; DROP TABLE flights;--",
          '2001/02/30 06:55',
          '2001-01-01T24:00:00Z',
          '0000-01-01',
          '10000-01-01',
          '2001-W01-1',
          '+002001-01-01',
          '2001-01-01T00:00:00+99:99',
          '\ufeff2001-01-01',
        ),
      ),
    )
    .map(([{ record }, name, v]) => ({
      bytes: serialise({ ...record, [name]: v }),
      expected: null,
      what: `${name} = ${JSON.stringify(v)}`,
    })),
  // Byte-level damage to the serialised record: flips, truncation, insertion, deletion.
  fc
    .tuple(
      validFlight,
      fc.nat(),
      fc.integer({ min: 0, max: 255 }),
      fc.constantFrom('flip', 'truncate', 'insert', 'delete'),
    )
    .map(([{ record }, at, byte, how]) => {
      const b = serialise(record);
      const i = at % b.length;
      const out =
        how === 'flip'
          ? b.map((x, j) => (j === i ? x ^ (byte || 1) : x))
          : how === 'truncate'
            ? b.subarray(0, i)
            : how === 'insert'
              ? Uint8Array.from([...b.subarray(0, i), byte, ...b.subarray(i)])
              : Uint8Array.from([...b.subarray(0, i), ...b.subarray(i + 1)]);
      return { bytes: out, expected: null, what: `${how} at ${i} (${byte})` };
    }),
);

/** Message data of every kind: noise, JSON of any shape, damaged records, the hand-written hostile cases. */
export const anyData: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 200 }).map(utf8),
  anyJson.map((v) => utf8(JSON.stringify(v))),
  mutatedFlight.map((m) => m.bytes),
  fc.constantFrom(...MALFORMED.map(([, bytes]) => bytes)),
  validFlight.map(({ record }) => serialise(record)),
);

export type Decoder = (data: Uint8Array) => RecordResult;

/** The decoder answers every input with a result: accepted, or a reject code of the table. */
export const decoderClassifies = (decode: Decoder) =>
  fc.property(anyData, (data) => {
    const r = decode(data);
    if (!r.ok) {
      expect(isRejectCode(r.code), `code ${String(r.code)}`).toBe(true);
      expect(typeof r.detail).toBe('string');
    }
  });

/** A valid record is accepted, and stored with its fields as sent (times as epoch microseconds). */
export const validAccepted = (decode: Decoder, s: DatasetSchema) =>
  fc.property(validRecord(s), ({ record, stored }) => {
    const r = decode(serialise(record));
    if (!r.ok) throw new Error(`rejected ${JSON.stringify(record)}: ${r.code} ${r.detail}`);
    expect(r.fields).toEqual(stored);
    expect(r.time).toBe(stored[s.time.field]);
  });

// ------------------------------------------------------------------------------------------------
// Deliveries: push envelopes and CloudEvents, valid, random, or damaged
// ------------------------------------------------------------------------------------------------

export const eventIdAttr = fc.oneof(
  fc.string({ minLength: 1, maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.constantFrom('', 'x'.repeat(MAX_EVENT_ID), 'x'.repeat(MAX_EVENT_ID + 1)),
);
export const datasetName = fc.oneof(
  fc.constantFrom('flights', 'seattle_weather', 'nope', '', '__proto__', 'constructor', 'toString'),
  fc.string({ maxLength: 20 }),
);

export const attributes = fc.oneof(
  fc.record({ dataset: datasetName, event_id: eventIdAttr }, { requiredKeys: [] }),
  fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('dataset', 'event_id', '__proto__')), fc.string(), {
    maxKeys: 4,
  }),
  fc.dictionary(fc.string(), anyJson, { maxKeys: 3 }),
  anyJson,
);

export const messageData = fc.oneof(
  anyData.map((b) => base64(b)),
  anyData.map((b) => Buffer.from(b).toString('base64url')),
  fc.string({ maxLength: 60 }),
  fc.constantFrom('', '=', 'A', 'AA==', 'AAA=', '!!!not base64', 'QQ', 'QQ=', 'QQ==='),
  anyJson,
);

export const publishTime = fc.oneof(
  instant.map((ms) => new Date(ms).toISOString()),
  fc
    .tuple(instant, fc.integer({ min: 0, max: 999_999 }))
    .map(([ms, ns]) => `${new Date(ms).toISOString().slice(0, -1)}${String(ns).padStart(6, '0')}Z`),
  fc.string({ maxLength: 40 }),
  anyJson,
);

export const messageId = fc.oneof(
  fc.string({ minLength: 1, maxLength: 24 }),
  fc.string({ maxLength: 300 }),
  fc.integer(),
  anyJson,
);

export const message = fc.record(
  {
    data: messageData,
    attributes,
    messageId,
    message_id: messageId,
    publishTime,
    publish_time: publishTime,
  },
  { requiredKeys: [] },
);

export const subscription = fc.oneof(
  fc.constantFrom(
    'projects/p/subscriptions/flights-ingest',
    'projects/p/subscriptions/prod-seattle_weather-ingest',
    'projects/p/subscriptions/nope-ingest',
    'projects/p/subscriptions/eventarc-x',
  ),
  fc.string(),
  anyJson,
);

export const pushEnvelope = fc.record(
  { message: fc.oneof({ weight: 5, arbitrary: message }, anyJson), subscription },
  { requiredKeys: [] },
);

export const topicSource = fc.oneof(
  fc.constantFrom(
    '//pubsub.googleapis.com/projects/p/topics/flights',
    '//pubsub.googleapis.com/projects/p/topics/prod-seattle_weather',
    '//pubsub.googleapis.com/projects/p/topics/',
  ),
  fc.string(),
  anyJson,
);

export const cloudEvent = fc.record(
  {
    specversion: fc.oneof({ weight: 5, arbitrary: fc.constant('1.0') }, fc.string(), anyJson),
    type: fc.constantFrom('google.cloud.pubsub.topic.v1.messagePublished'),
    source: topicSource,
    id: fc.string(),
    data: fc.oneof({ weight: 5, arbitrary: pushEnvelope }, anyJson),
  },
  { requiredKeys: ['specversion'] },
);

/** A valid delivery of a valid record, as Pub/Sub (push) or Eventarc (CloudEvent) sends it. */
export const validDelivery = fc
  .tuple(
    validFlight,
    fc.string({ minLength: 1, maxLength: MAX_EVENT_ID }),
    fc.string({ minLength: 1, maxLength: 64 }),
    fc.constantFrom('push', 'cloudevent'),
  )
  .map(([{ record, stored }, eventId, id, shape]) => {
    const push = JSON.parse(
      encodePushEnvelope(JSON.stringify(record), id, { event_id: eventId, dataset: 'flights' }),
    );
    const body =
      shape === 'push'
        ? push
        : { specversion: '1.0', source: '//pubsub.googleapis.com/projects/p/topics/flights', data: push };
    return { body, stored, eventId };
  });

export type Json = unknown;

/** Every (parent, key) slot of a JSON tree, parents first. */
export function slots(root: Json): Array<[Record<string, Json> | Json[], string | number]> {
  const out: Array<[Record<string, Json> | Json[], string | number]> = [];
  const walk = (v: Json) => {
    if (Array.isArray(v)) {
      v.forEach((x, i) => {
        out.push([v, i]);
        walk(x);
      });
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        out.push([v as Record<string, Json>, k]);
        walk(x);
      }
    }
  };
  walk(root);
  return out;
}

/** A valid delivery with a few of its fields replaced by random JSON or deleted. */
export const damagedDelivery = fc
  .tuple(
    validDelivery,
    fc.array(fc.tuple(fc.nat(), fc.option(anyJson, { nil: undefined })), { minLength: 1, maxLength: 3 }),
  )
  .map(([{ body }, edits]) => {
    const copy = structuredClone(body) as Json;
    for (const [at, value] of edits) {
      const all = slots(copy);
      if (all.length === 0) break;
      const [parent, key] = all[at % all.length]!;
      if (value === undefined && !Array.isArray(parent)) delete (parent as Record<string, Json>)[key];
      else (parent as Record<string | number, Json>)[key] = value ?? null;
    }
    return copy;
  });

export const anyBody = fc.oneof(
  { weight: 3, arbitrary: pushEnvelope },
  { weight: 3, arbitrary: cloudEvent },
  { weight: 3, arbitrary: damagedDelivery },
  { weight: 1, arbitrary: anyJson },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 2 }) },
);

export const ceHeaders = fc.record(
  {
    'ce-source': fc.oneof(
      topicSource.map((v) => (typeof v === 'string' ? v : undefined)),
      fc.array(fc.string()),
    ),
  },
  { requiredKeys: [] },
);

export const datasetHint = fc.option(datasetName, { nil: null });

/** createIngest over a writer that stores everything it is given, in memory. */
export function memoryIngest() {
  const rows: EventRow[] = [];
  const rejected: RejectedRow[] = [];
  const batcher = {
    submitRow: async (_: string, row: EventRow) => {
      rows.push(row);
      return 'stored' as const;
    },
    submitRejected: async (_: string, row: RejectedRow) => {
      rejected.push(row);
      return 'rejected' as const;
    },
  } as unknown as MicroBatcher;
  const ingest = createIngest({
    schemas,
    defaultDataset: 'flights',
    batcher,
    maxMessageBytes: MAX_MESSAGE_BYTES,
  });
  return { ingest, rows, rejected };
}

export function checkDelivery(d: Delivery): void {
  expect(d.message.data === undefined || d.message.data instanceof Uint8Array).toBe(true);
  for (const v of Object.values(d.message.attributes)) expect(typeof v).toBe('string');
  expect(typeof d.message.messageId).toBe('string');
  expect(d.message.messageId.length).toBeGreaterThan(0);
  expect(d.message.publishTime === null || Number.isFinite(d.message.publishTime)).toBe(true);
}

export function checkIngestResult(r: IngestResult): void {
  expect(schemas.has(r.dataset)).toBe(true);
  if (r.outcome === 'rejected') {
    expect(isRejectCode(r.code), `code ${String(r.code)}`).toBe(true);
  } else {
    expect(r.outcome).toBe('stored');
    expect(r.code).toBeUndefined();
    expect(r.eventId!.length).toBeGreaterThan(0);
    expect(r.eventId!.length).toBeLessThanOrEqual(MAX_EVENT_ID);
  }
}

/** Any body either decodes to a well-formed delivery or is bad_envelope; ingest classifies what decodes. */
export const deliveryClassifies = (decodeFn: typeof decodeDelivery, seen = { decoded: 0 }) => {
  const { ingest } = memoryIngest();
  return fc.asyncProperty(anyBody, ceHeaders, datasetHint, async (body, headers, hint) => {
    let delivery: Delivery;
    try {
      delivery = decodeFn(body, headers);
    } catch (error) {
      expectClassified(error, (code) => code === 'bad_envelope');
      return;
    }
    seen.decoded++;
    checkDelivery(delivery);
    checkIngestResult(await ingest(delivery, hint));
  });
};

// Query strings: filters, other parameters and stats parameters, written every way a client may.
export const RANGE_OPS = ['gt', 'gte', 'lt', 'lte'] as const;

/** Strings that would change a query if they reached its text. */
export const NASTY = [
  "'",
  "''",
  '"',
  '`',
  ';',
  '--',
  '/*',
  '*/',
  '\\',
  "LAX'; DROP TABLE flights;--",
  "' OR '1'='1",
  '1; DELETE FROM flights',
  '1 OR 1=1',
  '1)--',
  '$p0',
  '@p0',
  '?',
  'NULL',
  'é',
  '𝔘𝔫𝔦',
  '\u202eLAX',
  '\u00a0',
  'LAX\u0000',
  '%',
  '%25',
  '+',
  '&',
  '=',
  ',',
];

/** Values a client could send for a field: valid ones (so that queries parse) and hostile ones. */
export function rawValue(f: FieldSpec): fc.Arbitrary<string> {
  const nasty = fc.oneof(
    fc.constantFrom(...NASTY),
    fc.string({ unit: 'grapheme', maxLength: 12 }),
    fc.tuple(fc.constantFrom(...NASTY), fc.constantFrom(...NASTY)).map(([a, b]) => a + b),
  );
  let valid: fc.Arbitrary<string>;
  switch (f.type) {
    case 'string':
      valid = f.enum
        ? fc.constantFrom(...f.enum)
        : f.pattern
          ? fc.oneof(
              fc.stringMatching(new RegExp(f.pattern, 'u')),
              // Codes that are also SQL words: only binding keeps them out of the text.
              fc.constantFrom('AND', 'ASC', 'NOT', 'SUM', 'MAX', 'P01', 'OR1'),
            )
          : fc.string({ maxLength: 8 });
      break;
    case 'integer':
    case 'number':
      valid = fc.oneof(
        fc.integer({ min: f.minimum ?? -1000, max: f.maximum ?? 1000 }).map(String),
        fc.integer().map(String),
        fc.constantFrom(
          '0',
          '-0',
          '42',
          '4242',
          '1.5',
          '1e3',
          '-1E-2',
          '9007199254740991',
          '-9007199254740991',
        ),
      );
      break;
    case 'boolean':
      valid = fc.constantFrom('true', 'false');
      break;
    case 'timestamp':
      valid = fc.oneof(
        instant.map((ms) => new Date(ms).toISOString()),
        instant.map((ms) => new Date(ms).toISOString().slice(0, 10)),
        ...schema.time.formats.map((format) =>
          instant.map((ms) => DateTime.fromMillis(ms, { zone: 'utc' }).toFormat(format)),
        ),
      );
      break;
  }
  const wrong = fc.constantFrom(
    '0x10',
    'Infinity',
    'NaN',
    '1e400',
    '99999999999999999999',
    ' 1',
    '1 ',
    '2001-02-30',
    '2001-01-01T25:00Z',
    '0000-01-01',
    '9999-12-31',
    "2001-01-01'; DROP TABLE flights;--",
    'yesterday',
  );
  return fc.oneof(
    { weight: 6, arbitrary: valid },
    { weight: 2, arbitrary: nasty },
    { weight: 1, arbitrary: wrong },
  );
}

/** Every filter parameter the schema derives, with values for it. */
export function filterParam(s: DatasetSchema): fc.Arbitrary<[string, string]> {
  const byName = (n: string) => s.fields.find((f) => f.name === n)!;
  const time = byName(s.time.field);
  return fc.oneof(
    ...s.dimensions.map((d) =>
      fc
        .array(rawValue(byName(d)), { minLength: 1, maxLength: 4 })
        .map((vs) => [d, vs.join(',')] as [string, string]),
    ),
    ...[...s.measures, s.time.field].map((m) =>
      fc
        .tuple(fc.constantFrom(...RANGE_OPS), rawValue(byName(m)))
        .map(([op, v]) => [`${m}.${op}`, v] as [string, string]),
    ),
    fc.tuple(fc.constantFrom('from', 'to'), rawValue(time)),
  );
}

/** Parameters that are not filters, and names no dataset accepts. */
export const otherParam: fc.Arbitrary<[string, string]> = fc.oneof(
  fc.tuple(fc.constant('order'), fc.oneof(fc.constantFrom('asc', 'desc'), fc.constantFrom(...NASTY))),
  fc.tuple(
    fc.constant('limit'),
    fc.oneof(fc.integer({ min: 1, max: 1000 }).map(String), fc.constantFrom('0', '1001', '1e2', '-1', "1'")),
  ),
  fc.tuple(
    fc.constant('fields'),
    fc.oneof(
      fc.subarray([...fieldNames, 'event_id'], { minLength: 1 }).map((xs) => xs.join(',')),
      fc.constantFrom('origin,origin', 'password', "origin'--"),
    ),
  ),
  fc.tuple(
    fc.oneof(
      fc.string({ maxLength: 10 }),
      fc.constantFrom('origin.gt', 'delay', 'delay.eq', 'date.gte ', '__proto__', 'constructor', 'group_by'),
    ),
    fc.string({ maxLength: 10 }),
  ),
);

export const statsParam: fc.Arbitrary<[string, string]> = fc.oneof(
  fc.tuple(
    fc.constant('group_by'),
    fc.oneof(
      fc.subarray(schema.dimensions, { minLength: 1 }).map((xs) => xs.join(',')),
      fc.constantFrom('delay', 'origin,origin', "origin'"),
    ),
  ),
  fc.tuple(fc.constant('bucket'), fc.constantFrom('hour', 'day', 'week', "day'")),
);

/** How a pair is written into the query string: percent-encoded, `+` for spaces, or as is. */
export function writePair([k, v]: [string, string], how: 'encoded' | 'plus' | 'raw'): string {
  const encode = (s: string) => {
    try {
      return how === 'raw'
        ? s
        : how === 'plus'
          ? encodeURIComponent(s).replace(/%20/g, '+')
          : encodeURIComponent(s);
    } catch {
      return s; // a lone surrogate cannot be percent-encoded
    }
  };
  return `${encode(k)}=${encode(v)}`;
}

export const queryString = (params: fc.Arbitrary<[string, string]>) =>
  fc
    .array(
      fc.tuple(
        params,
        fc.constantFrom('encoded', 'encoded', 'plus', 'raw') as fc.Arbitrary<'encoded' | 'plus' | 'raw'>,
      ),
      {
        maxLength: 5,
      },
    )
    .map((pairs) => pairs.map(([p, how]) => writePair(p, how)).join('&'));

export const listQueryString = queryString(
  fc.oneof({ weight: 4, arbitrary: filterParam(schema) }, otherParam),
);
export const statsQueryString = queryString(
  fc.oneof({ weight: 4, arbitrary: filterParam(schema) }, statsParam, otherParam),
);
