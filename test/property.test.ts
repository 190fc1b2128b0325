/**
 * Property-based and fuzz tests (fast-check). Each guarantee is written once as a property over the
 * implementation under test, run against the real code, and run once more against a deliberately
 * broken variant to show that the property can fail.
 *
 * Run counts are fixed and small enough for a loaded two-core machine; seeds are not: a failure prints
 * the seed and the shrunk counterexample, which `fc.assert(..., { seed, path })` replays.
 */
import fc from 'fast-check';
import { DateTime, FixedOffsetZone } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MicroBatcher } from '../src/core/batcher.ts';
import { type CursorCodec, createCursorCodec, queryDigest } from '../src/core/cursor.ts';
import type { DatasetSchema, FieldSpec } from '../src/core/dataset-schema.ts';
import { type Delivery, decodeDelivery, encodePushEnvelope } from '../src/core/delivery.ts';
import { DuctoError, ERROR_CODES, type ErrorCode } from '../src/core/errors.ts';
import { createIngest, type IngestResult } from '../src/core/ingest.ts';
import { parseListQuery, parseParams, parseStatsQuery } from '../src/core/query.ts';
import { createRecordDecoder, type RecordResult, type Value } from '../src/core/record.ts';
import { type CompiledQuery, compileGet, compileList, compileStats } from '../src/core/sql/compile.ts';
import { bigqueryDialect, type Dialect, duckdbDialect } from '../src/core/sql/dialect.ts';
import { partitionPolicy } from '../src/core/sql/partition-range.ts';
import type { EventRow, Filter, Keyset, ListQuery, RejectedRow, StatsQuery } from '../src/core/warehouse.ts';
import { createIngestHandler } from '../src/http/ingest-handler.ts';
import { instrumentIngest } from '../src/instrument-ingest.ts';
import { createMetrics } from '../src/metrics.ts';
import { createHarness, type Harness } from './helpers/api-harness.ts';
import { MALFORMED, valid as validFlightRecord } from './helpers/malformed.ts';
import { allSchemas, flights } from './helpers/schemas.ts';

const schema = flights();
const schemas = allSchemas();
const MAX_MESSAGE_BYTES = 65_536;
const MAX_QUERY_LENGTH = 4096;
const MAX_EVENT_ID = 256;

const utf8 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));
const base64 = (b: Uint8Array | string): string => Buffer.from(b).toString('base64');

/** A thrown value that ducto classified: a DuctoError whose code is in the table, with that code's status. */
function expectClassified(error: unknown, allowed?: (code: ErrorCode, status: number) => boolean): void {
  if (!(error instanceof DuctoError)) throw error;
  expect(Object.hasOwn(ERROR_CODES, error.code), `code ${error.code}`).toBe(true);
  expect(error.status).toBe(ERROR_CODES[error.code].status);
  if (allowed && !allowed(error.code, error.status)) throw error;
}

const isClientError = (_: ErrorCode, status: number) => status >= 400 && status < 500;

function isRejectCode(code: unknown): boolean {
  return (
    typeof code === 'string' &&
    Object.hasOwn(ERROR_CODES, code) &&
    ERROR_CODES[code as ErrorCode].disposition === 'reject'
  );
}

const anyJson = fc.jsonValue({ maxDepth: 3 });

// ------------------------------------------------------------------------------------------------
// Valid records, derived from a dataset schema
// ------------------------------------------------------------------------------------------------

/** A field's value as a producer sends it (`json`) and as ducto must store it (`stored`). */
type Sample = { json: unknown; stored: Value };

// Event times are epoch microseconds held in a double: a valid time is a safe integer of µs
// (years 1684 to 2255). A day of margin keeps sub-millisecond digits in range too.
const DAY_MS = 86_400_000;
const SAFE_MS = Math.floor(Number.MAX_SAFE_INTEGER / 1000) - DAY_MS;
const instant = fc.integer({ min: -SAFE_MS, max: SAFE_MS });

/** A time in one of the spellings the schema accepts: ISO 8601 variants, or a declared source format. */
function timeSample(formats: readonly string[]): fc.Arbitrary<Sample> {
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

function fieldSample(s: DatasetSchema, f: FieldSpec): fc.Arbitrary<Sample> {
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
function validRecord(
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

const validFlight = validRecord(schema);

// ------------------------------------------------------------------------------------------------
// Mutations of valid records, with the reason code each must get when it is known
// ------------------------------------------------------------------------------------------------

const PLACEHOLDER = 'raw-json-placeholder';
type Mutated = { bytes: Uint8Array; expected: readonly string[] | null; what: string };

const fieldNames = schema.fields.map((f) => f.name);

/** A JSON value whose type differs from what the field declares. */
function wrongTypeValue(f: FieldSpec): fc.Arbitrary<unknown> {
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

function outOfRangeValue(f: FieldSpec): fc.Arbitrary<number> {
  const above = fc.integer({ min: f.maximum! + 1, max: Number.MAX_SAFE_INTEGER });
  const below = fc.integer({ min: Number.MIN_SAFE_INTEGER, max: f.minimum! - 1 });
  return fc.oneof(above, below, fc.constantFrom(1e20, -1e20, 2 ** 53, -(2 ** 53)));
}

const ranged = schema.fields.filter((f) => f.minimum !== undefined && f.maximum !== undefined);
const required = schema.fields.filter((f) => f.required);

const serialise = (record: Record<string, unknown>) => utf8(JSON.stringify(record));

const mutatedFlight: fc.Arbitrary<Mutated> = fc.oneof(
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
const anyData: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 200 }).map(utf8),
  anyJson.map((v) => utf8(JSON.stringify(v))),
  mutatedFlight.map((m) => m.bytes),
  fc.constantFrom(...MALFORMED.map(([, bytes]) => bytes)),
  validFlight.map(({ record }) => serialise(record)),
);

type Decoder = (data: Uint8Array) => RecordResult;

/** The decoder answers every input with a result: accepted, or a reject code of the table. */
const decoderClassifies = (decode: Decoder) =>
  fc.property(anyData, (data) => {
    const r = decode(data);
    if (!r.ok) {
      expect(isRejectCode(r.code), `code ${String(r.code)}`).toBe(true);
      expect(typeof r.detail).toBe('string');
    }
  });

/** A valid record is accepted, and stored with its fields as sent (times as epoch microseconds). */
const validAccepted = (decode: Decoder, s: DatasetSchema) =>
  fc.property(validRecord(s), ({ record, stored }) => {
    const r = decode(serialise(record));
    if (!r.ok) throw new Error(`rejected ${JSON.stringify(record)}: ${r.code} ${r.detail}`);
    expect(r.fields).toEqual(stored);
    expect(r.time).toBe(stored[s.time.field]);
  });

// ------------------------------------------------------------------------------------------------
// Deliveries: push envelopes and CloudEvents, valid, random, or damaged
// ------------------------------------------------------------------------------------------------

const eventIdAttr = fc.oneof(
  fc.string({ minLength: 1, maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.constantFrom('', 'x'.repeat(MAX_EVENT_ID), 'x'.repeat(MAX_EVENT_ID + 1)),
);
const datasetName = fc.oneof(
  fc.constantFrom('flights', 'seattle_weather', 'nope', '', '__proto__', 'constructor', 'toString'),
  fc.string({ maxLength: 20 }),
);

const attributes = fc.oneof(
  fc.record({ dataset: datasetName, event_id: eventIdAttr }, { requiredKeys: [] }),
  fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('dataset', 'event_id', '__proto__')), fc.string(), {
    maxKeys: 4,
  }),
  fc.dictionary(fc.string(), anyJson, { maxKeys: 3 }),
  anyJson,
);

const messageData = fc.oneof(
  anyData.map((b) => base64(b)),
  anyData.map((b) => Buffer.from(b).toString('base64url')),
  fc.string({ maxLength: 60 }),
  fc.constantFrom('', '=', 'A', 'AA==', 'AAA=', '!!!not base64', 'QQ', 'QQ=', 'QQ==='),
  anyJson,
);

const publishTime = fc.oneof(
  instant.map((ms) => new Date(ms).toISOString()),
  fc
    .tuple(instant, fc.integer({ min: 0, max: 999_999 }))
    .map(([ms, ns]) => `${new Date(ms).toISOString().slice(0, -1)}${String(ns).padStart(6, '0')}Z`),
  fc.string({ maxLength: 40 }),
  anyJson,
);

const messageId = fc.oneof(
  fc.string({ minLength: 1, maxLength: 24 }),
  fc.string({ maxLength: 300 }),
  fc.integer(),
  anyJson,
);

const message = fc.record(
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

const subscription = fc.oneof(
  fc.constantFrom(
    'projects/p/subscriptions/flights-ingest',
    'projects/p/subscriptions/prod-seattle_weather-ingest',
    'projects/p/subscriptions/nope-ingest',
    'projects/p/subscriptions/eventarc-x',
  ),
  fc.string(),
  anyJson,
);

const pushEnvelope = fc.record(
  { message: fc.oneof({ weight: 5, arbitrary: message }, anyJson), subscription },
  { requiredKeys: [] },
);

const topicSource = fc.oneof(
  fc.constantFrom(
    '//pubsub.googleapis.com/projects/p/topics/flights',
    '//pubsub.googleapis.com/projects/p/topics/prod-seattle_weather',
    '//pubsub.googleapis.com/projects/p/topics/',
  ),
  fc.string(),
  anyJson,
);

const cloudEvent = fc.record(
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
const validDelivery = fc
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

type Json = unknown;

/** Every (parent, key) slot of a JSON tree, parents first. */
function slots(root: Json): Array<[Record<string, Json> | Json[], string | number]> {
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
const damagedDelivery = fc
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

const anyBody = fc.oneof(
  { weight: 3, arbitrary: pushEnvelope },
  { weight: 3, arbitrary: cloudEvent },
  { weight: 3, arbitrary: damagedDelivery },
  { weight: 1, arbitrary: anyJson },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 2 }) },
);

const ceHeaders = fc.record(
  {
    'ce-source': fc.oneof(
      topicSource.map((v) => (typeof v === 'string' ? v : undefined)),
      fc.array(fc.string()),
    ),
  },
  { requiredKeys: [] },
);

const datasetHint = fc.option(datasetName, { nil: null });

/** createIngest over a writer that stores everything it is given, in memory. */
function memoryIngest() {
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

function checkDelivery(d: Delivery): void {
  expect(d.message.data === undefined || d.message.data instanceof Uint8Array).toBe(true);
  for (const v of Object.values(d.message.attributes)) expect(typeof v).toBe('string');
  expect(typeof d.message.messageId).toBe('string');
  expect(d.message.messageId.length).toBeGreaterThan(0);
  expect(d.message.publishTime === null || Number.isFinite(d.message.publishTime)).toBe(true);
}

function checkIngestResult(r: IngestResult): void {
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
const deliveryClassifies = (decodeFn: typeof decodeDelivery, seen = { decoded: 0 }) => {
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

// ------------------------------------------------------------------------------------------------
// 1. Decoding and validation classify every input, and accept every valid record
// ------------------------------------------------------------------------------------------------

describe('property: the decoder and the validator never throw, they classify', () => {
  const decode = createRecordDecoder(schema, { maxBytes: MAX_MESSAGE_BYTES });
  // A tiny limit makes the oversize branch reachable with random data too.
  const small = createRecordDecoder(schema, { maxBytes: 64 });

  it('any message data gets a result: accepted, or a reject code of ERROR_CODES', () => {
    fc.assert(decoderClassifies(decode), { numRuns: 600 });
    fc.assert(decoderClassifies(small), { numRuns: 200 });
  });

  it('a damaged valid record gets the reason code its damage calls for', () => {
    fc.assert(
      fc.property(mutatedFlight, ({ bytes, expected, what }) => {
        const r = decode(bytes);
        if (r.ok) {
          expect(expected, `accepted ${what}`).toBeNull();
          return;
        }
        expect(isRejectCode(r.code), `code ${r.code}`).toBe(true);
        if (expected) expect(expected, `${what}: ${r.detail}`).toContain(r.code);
      }),
      { numRuns: 500 },
    );
  });

  it.each([...schemas.keys()])('every valid %s record is accepted as sent', (name) => {
    const s = schemas.get(name)!;
    fc.assert(validAccepted(createRecordDecoder(s, { maxBytes: MAX_MESSAGE_BYTES }), s), { numRuns: 300 });
  });

  it('regression: a time with no exact microsecond value (outside about 1684-2255) is impossible_time', () => {
    // Such times used to be accepted with rounded microseconds, then refused by the warehouse writer.
    const exactMs = Math.floor(Number.MAX_SAFE_INTEGER / 1000);
    const farTime = fc.oneof(
      fc.integer({ min: Date.parse('0001-01-01T00:00:00Z'), max: -exactMs - 1 }),
      fc.integer({ min: exactMs + 1, max: Date.parse('9999-12-31T23:59:59.999Z') }),
    );
    fc.assert(
      fc.property(validFlight, farTime, ({ record }, ms) => {
        const r = decode(serialise({ ...record, date: new Date(ms).toISOString() }));
        expect(r.ok ? 'accepted' : r.code).toBe('impossible_time');
      }),
      { numRuns: 200 },
    );
    expect(decode(serialise({ ...validFlightRecord, date: '2255-06-05T23:47:34Z' })).ok).toBe(true);
    expect(decode(serialise({ ...validFlightRecord, date: '2255-06-05T23:47:35Z' }))).toMatchObject({
      ok: false,
      code: 'impossible_time',
    });
  });

  it('any delivery body either decodes or is refused as bad_envelope; ingest classifies what decodes', async () => {
    const seen = { decoded: 0 };
    await fc.assert(deliveryClassifies(decodeDelivery, seen), { numRuns: 500 });
    // Not vacuous: a good share of the bodies got past the envelope.
    expect(seen.decoded).toBeGreaterThan(40);
  });

  it('a valid delivery of a valid record is stored, under its event_id, with its fields', async () => {
    const { ingest, rows } = memoryIngest();
    await fc.assert(
      fc.asyncProperty(validDelivery, async ({ body, stored, eventId }) => {
        const result = await ingest(decodeDelivery(body), null);
        expect(result, JSON.stringify(result)).toMatchObject({
          outcome: 'stored',
          dataset: 'flights',
          eventId,
        });
        expect(rows.at(-1)!.fields).toEqual(stored);
      }),
      { numRuns: 200 },
    );
  });

  it('the push endpoint answers any request body with 204 or a classified 4xx', async () => {
    const { ingest } = memoryIngest();
    const handler = createIngestHandler(
      instrumentIngest(ingest, createMetrics(undefined, { defaults: false })),
    );
    const bodies = fc.oneof(
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
      fc.string({ unit: 'binary', maxLength: 200 }).map((s) => Buffer.from(s)),
      anyBody.map((b) => Buffer.from(JSON.stringify(b) ?? 'undefined')),
      validDelivery.map(({ body }) => Buffer.from(JSON.stringify(body))),
    );
    const contentType = fc.constantFrom('application/json', 'application/cloudevents+json', 'text/plain');
    await fc.assert(
      fc.asyncProperty(
        bodies,
        contentType,
        fc.constantFrom('', 'dataset=flights', 'dataset=nope'),
        async (body, type, query) => {
          try {
            const r = await handler({
              method: 'POST',
              path: '/',
              query,
              headers: { 'content-type': type },
              body,
            });
            expect(r.status).toBe(204);
          } catch (error) {
            expectClassified(error, isClientError);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('each suite fails when its guarantee is broken', async () => {
    // A decoder that parses before it checks the encoding throws on random bytes.
    const throwing: Decoder = (data) => {
      JSON.parse(Buffer.from(data).toString('utf8'));
      return decode(data);
    };
    expect(fc.check(decoderClassifies(throwing), { numRuns: 200, endOnFailure: true }).failed).toBe(true);
    // A decoder inventing a reason code outside the table.
    const unclassified: Decoder = (data) => {
      const r = decode(data);
      return r.ok ? r : { ...r, code: 'invalid' as 'not_json' };
    };
    expect(fc.check(decoderClassifies(unclassified), { numRuns: 200, endOnFailure: true }).failed).toBe(true);
    // A validator derived with a narrower range than the schema declares rejects valid records.
    const narrow: DatasetSchema = {
      ...schema,
      fields: schema.fields.map((f) => (f.name === 'delay' ? { ...f, maximum: 600 } : f)),
    };
    const strict = createRecordDecoder(narrow, { maxBytes: MAX_MESSAGE_BYTES });
    expect(fc.check(validAccepted(strict, schema), { numRuns: 200, endOnFailure: true }).failed).toBe(true);
    // An envelope decoder that reads the attributes without checking they are there.
    const unguarded: typeof decodeDelivery = (body, headers) => {
      const payload = (body as { data?: { message?: unknown }; message?: unknown }) ?? {};
      const m = (payload.message ?? payload.data?.message) as { attributes: object } | undefined;
      if (m && typeof m === 'object') Object.keys(m.attributes);
      return decodeDelivery(body, headers);
    };
    const details = await fc.check(deliveryClassifies(unguarded), { numRuns: 300, endOnFailure: true });
    expect(details.failed).toBe(true);
  });
});

// ------------------------------------------------------------------------------------------------
// 2. Query strings: what parses compiles to SQL holding no value; what does not is a 4xx
// ------------------------------------------------------------------------------------------------

const RANGE_OPS = ['gt', 'gte', 'lt', 'lte'] as const;

/** Strings that would change a query if they reached its text. */
const NASTY = [
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
function rawValue(f: FieldSpec): fc.Arbitrary<string> {
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
function filterParam(s: DatasetSchema): fc.Arbitrary<[string, string]> {
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
const otherParam: fc.Arbitrary<[string, string]> = fc.oneof(
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

const statsParam: fc.Arbitrary<[string, string]> = fc.oneof(
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
function writePair([k, v]: [string, string], how: 'encoded' | 'plus' | 'raw'): string {
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

const queryString = (params: fc.Arbitrary<[string, string]>) =>
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

const listQueryString = queryString(fc.oneof({ weight: 4, arbitrary: filterParam(schema) }, otherParam));
const statsQueryString = queryString(
  fc.oneof({ weight: 4, arbitrary: filterParam(schema) }, statsParam, otherParam),
);

const dialects: Array<[string, Dialect]> = [
  ['duckdb', duckdbDialect],
  ['bigquery', bigqueryDialect({ tableName: (t) => `ducto-test.ducto.${t}` })],
  [
    'bigquery with a partition window',
    bigqueryDialect({
      tableName: (t) => `ducto-test.ducto.${t}`,
      partitions: partitionPolicy({
        defaultDays: 7,
        maxDays: 31,
        recentDays: 2,
        now: () => Date.UTC(2001, 5, 1) * 1000,
      }),
    }),
  ],
];

/** The placeholders a SQL text uses (as test/sql-compile.test.ts reads them). */
function placeholders(sql: string): Set<string> {
  return new Set([...sql.matchAll(/[$@](p\d+)\b/g)].map((m) => m[1]!));
}

/**
 * What is left of a SQL text once placeholders, quoted identifiers and the compiler's own constants
 * are removed. Values would have to be here; only keywords, function names and operators may be.
 */
function residue(sql: string, inlinedLimit: number | null): string {
  let r = sql
    .replace(/[$@]p\d+\b/g, ' ')
    .replace(/"[a-z][a-z0-9_]*"/g, ' ')
    .replace(/`[^`]*`/g, ' ')
    .replace(/'(?:hour|day|UTC)'/g, ' ')
    .replace(/\) = 1$/gm, ') ');
  // DuckDB writes LIMIT as a validated integer (BigQuery binds it): the one number allowed in the text.
  if (inlinedLimit !== null) r = r.replace(new RegExp(`\\bLIMIT ${inlinedLimit}$`), ' ');
  return r;
}

/** Every value moved, keeping its type: a number by one toward zero, a string lengthened, a boolean flipped. */
function moved<T extends { filters: Filter[] }>(q: T): T {
  const move = (v: Value): Value => {
    if (typeof v === 'string') return `${v}\u0001moved`;
    if (typeof v === 'number') return v > 0 ? v - 1 : v + 1;
    return typeof v === 'boolean' ? !v : v;
  };
  return { ...q, filters: q.filters.map((f) => ({ ...f, values: f.values.map(move) })) };
}

const SQL_WORDS = /^[A-Za-z_(),*=<>.\s]*$/;

type Compiler = (d: Dialect, s: DatasetSchema, q: ListQuery) => CompiledQuery;

/**
 * The SQL holds no value: (1) its text is the same when every value changes, (2) nothing but
 * keywords and operators is left once placeholders and identifiers are removed, (3) no raw value the
 * client sent is in that residue, (4) it binds exactly the placeholders it writes, and every value.
 */
function expectValuesOnlyBound(
  d: Dialect,
  q: CompiledQuery,
  other: CompiledQuery,
  values: Value[],
  raw: string[],
  limit: number | null,
): void {
  expect(other.sql).toBe(q.sql);
  const rest = residue(q.sql, d.bindLimit ? null : limit);
  expect(rest).toMatch(SQL_WORDS);
  // A value made of keyword letters and operators only (`ASC`, `,`) is covered by (1).
  for (const s of raw) if (!SQL_WORDS.test(s)) expect(rest).not.toContain(s);
  expect(placeholders(q.sql)).toEqual(new Set(q.params.map((p) => p.name)));
  const bound = q.params.map((p) => p.value);
  for (const v of values) expect(bound).toContainEqual(v);
}

/** The raw value strings of the filter parameters, as the client wrote them after decoding. */
function rawFilterValues(params: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [k, v] of params) {
    if (['limit', 'order', 'fields', 'cursor', 'group_by', 'bucket'].includes(k)) continue;
    out.push(...(schema.dimensions.includes(k) ? v.split(',') : [v]));
  }
  return out;
}

const keyset: fc.Arbitrary<Keyset> = fc.record({
  time: instant.map((ms) => ms * 1000),
  eventId: fc.oneof(fc.constantFrom(...NASTY), fc.string({ unit: 'binary', minLength: 1, maxLength: 40 })),
});

const listCompilesSafely = (compile: Compiler, counts: { parsed: number }) =>
  fc.property(listQueryString, fc.boolean(), fc.option(keyset, { nil: null }), (raw, stream, after) => {
    let parsed: ReturnType<typeof parseListQuery>;
    let params: Map<string, string>;
    try {
      params = parseParams(raw, MAX_QUERY_LENGTH);
      parsed = parseListQuery(schema, params, stream);
    } catch (error) {
      expectClassified(error, isClientError);
      return;
    }
    counts.parsed++;
    const query: ListQuery = { ...parsed.query, after };
    const movedQuery = {
      ...moved(query),
      after: after && { time: after.time + 1, eventId: `${after.eventId}x` },
    };
    const values = query.filters.flatMap((f) => f.values);
    if (after) values.push(after.time, after.eventId);
    for (const [, d] of dialects) {
      let q: CompiledQuery;
      try {
        q = compile(d, schema, query);
      } catch (error) {
        // A partition window may refuse a range that is too long: a client error too.
        expectClassified(error, isClientError);
        continue;
      }
      expectValuesOnlyBound(
        d,
        q,
        compile(d, schema, movedQuery),
        values,
        rawFilterValues(params),
        query.limit,
      );
    }
  });

describe('property: SQL text never holds a value the client sent', () => {
  it('list queries: what parses binds every value; what does not is a classified 4xx', () => {
    const counts = { parsed: 0 };
    fc.assert(listCompilesSafely(compileList, counts), { numRuns: 400 });
    expect(counts.parsed).toBeGreaterThan(50);
  });

  it('stats queries: the same, with grouping and buckets', () => {
    let parsed = 0;
    fc.assert(
      fc.property(statsQueryString, (raw) => {
        let params: Map<string, string>;
        let query: StatsQuery;
        try {
          params = parseParams(raw, MAX_QUERY_LENGTH);
          query = parseStatsQuery(schema, params);
        } catch (error) {
          expectClassified(error, isClientError);
          return;
        }
        parsed++;
        const values = query.filters.flatMap((f) => f.values);
        for (const [, d] of dialects) {
          let q: CompiledQuery;
          try {
            q = compileStats(d, schema, query);
          } catch (error) {
            expectClassified(error, isClientError);
            continue;
          }
          expectValuesOnlyBound(
            d,
            q,
            compileStats(d, schema, moved(query)),
            values,
            rawFilterValues(params),
            null,
          );
        }
      }),
      { numRuns: 300 },
    );
    expect(parsed).toBeGreaterThan(30);
  });

  it('get by id: the id is bound, whatever it is', () => {
    fc.assert(
      fc.property(
        keyset.map((k) => k.eventId),
        (id) => {
          for (const [, d] of dialects) {
            const q = compileGet(d, schema, id);
            expectValuesOnlyBound(d, q, compileGet(d, schema, `${id}x`), [id], [id], null);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('any query string at all is parsed or refused with a classified 4xx', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ maxLength: 5000 }), (a, b) => {
        for (const raw of [a, b]) {
          try {
            const params = parseParams(raw, MAX_QUERY_LENGTH);
            parseListQuery(schema, params, false);
            parseStatsQuery(schema, params);
          } catch (error) {
            expectClassified(error, isClientError);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('each suite fails when its guarantee is broken', () => {
    // A compiler that writes the first value into the text instead of binding it.
    const inlining: Compiler = (d, s, q) => {
      const c = compileList(d, s, q);
      const first = c.params[0];
      if (!first) return c;
      return {
        sql: c.sql.replace(d.placeholder(first.name), JSON.stringify(first.value)),
        params: c.params.slice(1),
      };
    };
    const details = fc.check(listCompilesSafely(inlining, { parsed: 0 }), {
      numRuns: 200,
      endOnFailure: true,
    });
    expect(details.failed).toBe(true);
  });
});

// ------------------------------------------------------------------------------------------------
// 3. Cursors round-trip, and any edit or replay elsewhere is bad_cursor
// ------------------------------------------------------------------------------------------------

/** Event ids as ingest allows them (1 to 256 UTF-16 units), the worst cases for a cursor's length included. */
const eventId = fc
  .oneof(
    fc.string({ minLength: 1, maxLength: 24 }),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 256 }),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 64 }),
    fc
      .constantFrom('\u0001', '"', '\\', 'é', '中', '\ud800', '😀')
      .map((c) => c.repeat(MAX_EVENT_ID / c.length)),
  )
  .map((s) => s.slice(0, MAX_EVENT_ID));

const position: fc.Arbitrary<Keyset> = fc.record({ time: fc.maxSafeInteger(), eventId });

/** What a cursor is bound to: the identity of a parsed list query (dataset, order, filters). */
const identity: fc.Arbitrary<string[]> = fc.oneof(
  listQueryString
    .map((raw) => {
      try {
        return parseListQuery(schema, parseParams(raw, MAX_QUERY_LENGTH), false).identity;
      } catch {
        return null;
      }
    })
    .filter((x): x is string[] => x !== null),
  fc
    .tuple(
      fc.constantFrom(...schemas.keys()),
      fc.constantFrom('asc', 'desc'),
      fc.array(fc.string(), { maxLength: 3 }),
    )
    .map(([d, o, f]) => [d, o, ...f]),
);

/** The same query bound elsewhere: another dataset, the other order, or other filters. */
const rebound = fc.tuple(identity, fc.nat()).map(([id, how]): [string[], string[]] => {
  const [dataset, order, ...filters] = id as [string, string, ...string[]];
  const other = [
    [dataset === 'flights' ? 'seattle_weather' : 'flights', order, ...filters],
    [dataset, order === 'asc' ? 'desc' : 'asc', ...filters],
    [dataset, order, ...filters, 'origin.in=["LAX"]'],
    [dataset, order, ...filters.slice(1)],
  ].filter((x) => JSON.stringify(x) !== JSON.stringify(id));
  return [id, other[how % other.length]!];
});

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Where an edit lands: anywhere, in the signature, or on the last two characters (a boundary). */
type Where = 'anywhere' | 'signature' | 'end';

type Tamper = { where: Where; at: number } & (
  | { kind: 'replace'; char: string }
  | { kind: 'truncate' }
  | { kind: 'insert'; text: string }
  | { kind: 'delete'; count: number }
);

const tamper: fc.Arbitrary<Tamper> = fc
  .tuple(
    fc.constantFrom<Where>('anywhere', 'signature', 'end'),
    fc.nat(),
    fc.oneof(
      fc.record({
        kind: fc.constant('replace' as const),
        char: fc.oneof(
          fc.constantFrom(...B64URL, '.', '=', '+', '/'),
          fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
        ),
      }),
      fc.record({ kind: fc.constant('truncate' as const) }),
      fc.record({ kind: fc.constant('insert' as const), text: fc.string({ minLength: 1, maxLength: 4 }) }),
      fc.record({ kind: fc.constant('delete' as const), count: fc.integer({ min: 1, max: 8 }) }),
    ),
  )
  .map(([where, at, t]) => ({ where, at, ...t }));

/** Applies an edit; the result always differs from the cursor. */
function edit(cursor: string, t: Tamper): string {
  const signature = cursor.indexOf('.') + 1;
  const i =
    t.where === 'anywhere'
      ? t.at % cursor.length
      : t.where === 'signature'
        ? signature + (t.at % (cursor.length - signature))
        : cursor.length - 1 - (t.at % 2);
  switch (t.kind) {
    case 'replace': {
      const char = t.char === cursor[i] ? B64URL[(B64URL.indexOf(t.char) + 1) % B64URL.length]! : t.char;
      return cursor.slice(0, i) + char + cursor.slice(i + 1);
    }
    case 'truncate':
      return cursor.slice(0, i);
    case 'insert':
      return cursor.slice(0, i) + t.text + cursor.slice(i);
    case 'delete':
      return cursor.slice(0, i) + cursor.slice(i + t.count);
  }
}

function expectBadCursor(decode: () => unknown): void {
  try {
    decode();
  } catch (error) {
    expectClassified(error, (code) => code === 'bad_cursor');
    return;
  }
  throw new Error('the cursor was accepted');
}

const SECRET = 'property-test-secret';
const codec = createCursorCodec(SECRET);

const cursorRoundTrips = (c: CursorCodec) =>
  fc.property(position, identity, (p, id) => {
    const digest = queryDigest(id);
    expect(c.decode(c.encode(p, digest), digest)).toEqual(p);
  });

const cursorRefusesEdits = (c: CursorCodec) =>
  fc.property(position, identity, tamper, (p, id, t) => {
    const digest = queryDigest(id);
    const cursor = c.encode(p, digest);
    const edited = edit(cursor, t);
    expect(edited).not.toBe(cursor);
    expectBadCursor(() => c.decode(edited, digest));
  });

describe('property: cursors round-trip and refuse tampering', () => {
  it('decode(encode(position)) is the position, for any time and any event id ingest allows', () => {
    fc.assert(cursorRoundTrips(codec), { numRuns: 300 });
  });

  it('any edit of a cursor (a character changed, inserted or deleted, truncation) is bad_cursor', () => {
    fc.assert(cursorRefusesEdits(codec), { numRuns: 500 });
  });

  it('a cursor replayed on another dataset, order or filters is bad_cursor', () => {
    fc.assert(
      fc.property(position, rebound, (p, [from, to]) => {
        expectBadCursor(() => codec.decode(codec.encode(p, queryDigest(from)), queryDigest(to)));
      }),
      { numRuns: 300 },
    );
  });

  it('forged cursors are bad_cursor: another secret, another position under a kept signature, noise', () => {
    const other = createCursorCodec('another-secret');
    fc.assert(
      fc.property(position, position, identity, fc.string({ maxLength: 3000 }), (p, q, id, noise) => {
        const digest = queryDigest(id);
        expectBadCursor(() => codec.decode(other.encode(p, digest), digest));
        const signature = codec.encode(p, digest).split('.')[1]!;
        const payload = codec.encode(q, digest).split('.')[0]!;
        if (JSON.stringify(p) !== JSON.stringify(q))
          expectBadCursor(() => codec.decode(`${payload}.${signature}`, digest));
        expectBadCursor(() => codec.decode(noise, digest));
      }),
      { numRuns: 300 },
    );
  });

  it('regression: a cursor past a 256-character non-ASCII event id decodes; a re-spelled signature does not', () => {
    const digest = queryDigest(['flights', 'asc']);
    const p = { time: 978307260000000, eventId: 'é'.repeat(MAX_EVENT_ID) };
    expect(codec.decode(codec.encode(p, digest), digest)).toEqual(p);
    // The last of 22 base64url characters carries 2 bits of the signature and 4 spare ones.
    const cursor = codec.encode({ time: 1, eventId: 'x' }, digest);
    const last = B64URL.indexOf(cursor.at(-1)!);
    const respelled = cursor.slice(0, -1) + B64URL[last ^ 1];
    expect(Buffer.from(respelled.split('.')[1]!, 'base64url')).toEqual(
      Buffer.from(cursor.split('.')[1]!, 'base64url'),
    );
    expectBadCursor(() => codec.decode(respelled, digest));
  });

  it('each suite fails when its guarantee is broken', () => {
    // A decoder that reads the payload without checking its signature.
    const unsigned: CursorCodec = {
      encode: codec.encode,
      decode(cursor, digest) {
        const parsed = JSON.parse(Buffer.from(cursor.split('.')[0]!, 'base64url').toString('utf8'));
        if (parsed[3] !== digest) throw new DuctoError('bad_cursor', 'another query');
        return { time: parsed[1], eventId: parsed[2] };
      },
    };
    expect(fc.check(cursorRefusesEdits(unsigned), { numRuns: 300, endOnFailure: true }).failed).toBe(true);
    // A codec with the old 512-character cap refuses cursors it issued itself.
    const capped: CursorCodec = {
      encode: codec.encode,
      decode(cursor, digest) {
        if (cursor.length > 512) throw new DuctoError('bad_cursor', 'too long');
        return codec.decode(cursor, digest);
      },
    };
    expect(fc.check(cursorRoundTrips(capped), { numRuns: 300, endOnFailure: true }).failed).toBe(true);
  });
});

// ------------------------------------------------------------------------------------------------
// 4. Paging through the API returns every matching event exactly once, in order
// ------------------------------------------------------------------------------------------------

const T0_MS = Date.UTC(2001, 0, 1);
const ORIGINS = ['LAX', 'SFO', 'JFK'] as const;

interface Flight {
  id: string;
  /** Minutes after T0: few distinct values, so timestamps repeat as in real data. */
  minute: number;
  delay: number;
  origin: string;
}

const flight: fc.Arbitrary<Flight> = fc.record({
  id: fc.oneof(
    { weight: 6, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 6 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }) },
    // Long ids with characters JSON or UTF-8 widen: the cursors past them are the longest.
    {
      weight: 1,
      arbitrary: fc.string({
        unit: fc.constantFrom('é', '"', '中', 'a'),
        minLength: 200,
        maxLength: MAX_EVENT_ID - 4,
      }),
    },
  ),
  minute: fc.integer({ min: 0, max: 5 }),
  delay: fc.integer({ min: -10, max: 60 }),
  origin: fc.constantFrom(...ORIGINS),
});

interface PageFilter {
  query: string;
  keep: (f: Flight) => boolean;
}

const pageFilter: fc.Arbitrary<PageFilter> = fc.oneof(
  fc.constant({ query: '', keep: () => true }),
  fc.subarray([...ORIGINS], { minLength: 1 }).map((os) => ({
    query: `origin=${os.join(',')}`,
    keep: (f: Flight) => os.includes(f.origin as (typeof ORIGINS)[number]),
  })),
  fc
    .integer({ min: -10, max: 60 })
    .map((d) => ({ query: `delay.gte=${d}`, keep: (f: Flight) => f.delay >= d })),
  fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 6 })).map(([from, span]) => ({
    query: `from=${new Date(T0_MS + from * 60_000).toISOString()}&to=${new Date(T0_MS + (from + span) * 60_000).toISOString()}`,
    keep: (f: Flight) => f.minute >= from && f.minute < from + span,
  })),
);

const pagingCase = fc.record({
  flights: fc.uniqueArray(flight, { selector: (f) => f.id, maxLength: 40, size: 'medium' }),
  order: fc.constantFrom('asc' as const, 'desc' as const),
  limits: fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 6 }),
  filter: pageFilter,
});

/** The expected listing, computed apart from the warehouse: (time, event_id), ids in byte order. */
function expectedIds(flights: Flight[], filter: PageFilter, order: 'asc' | 'desc'): string[] {
  const sorted = flights
    .filter(filter.keep)
    .sort((a, b) => a.minute - b.minute || Buffer.compare(Buffer.from(a.id), Buffer.from(b.id)));
  if (order === 'desc') sorted.reverse();
  return sorted.map((f) => f.id);
}

/**
 * One property run on a shared harness: each run gets its own destination code, and every query of
 * the run filters on it, so runs never see each other's events (and share one DuckDB).
 */
const pagesOnce = (harness: () => Harness, seen = { pages: 0, multiPage: 0 }) => {
  let run = 0;
  return fc.asyncProperty(pagingCase, async ({ flights, order, limits, filter }) => {
    const h = harness();
    const destination = (run++).toString(36).toUpperCase().padStart(3, '0');
    // Event ids are unique across the store: a shared prefix keeps runs apart and keeps their order.
    flights = flights.map((f) => ({ ...f, id: `${destination}:${f.id}` }));
    await h.ingestAll(
      'flights',
      flights.map((f) => ({
        date: new Date(T0_MS + f.minute * 60_000).toISOString(),
        delay: f.delay,
        distance: 100,
        origin: f.origin,
        destination,
      })),
      (i) => flights[i]!.id,
    );
    const want = expectedIds(flights, filter, order);
    const base = `/v1/flights?destination=${destination}&order=${order}${filter.query ? `&${filter.query}` : ''}`;
    const got: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    for (let page = 0; page <= want.length; page++) {
      pages++;
      const limit = limits[page % limits.length]!;
      const path = `${base}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`;
      const r = await h.request(path);
      expect(r.status, `${path}: ${r.text}`).toBe(200);
      const body = r.json() as { data: Array<{ event_id: string }>; next_cursor: string | null };
      got.push(...body.data.map((e) => e.event_id));
      // A full page announces the next one; a later page is never empty.
      if (body.next_cursor !== null) expect(body.data).toHaveLength(limit);
      else expect(body.data.length).toBeLessThanOrEqual(limit);
      if (page > 0) expect(body.data.length).toBeGreaterThan(0);
      cursor = body.next_cursor;
      if (cursor === null) break;
      // The cursor is bound to its query: the other order refuses it.
      const flipped = base.replace(`order=${order}`, `order=${order === 'asc' ? 'desc' : 'asc'}`);
      const replay = await h.request(`${flipped}&limit=${limit}&cursor=${cursor}`);
      expect(replay.status).toBe(400);
      expect(replay.json().code).toBe('bad_cursor');
    }
    expect(cursor, 'paging did not end').toBeNull();
    expect(got).toEqual(want);
    seen.pages += pages;
    if (pages > 1) seen.multiPage++;
  });
};

describe('property: paging returns each event exactly once, in order', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('random events (repeated timestamps), random page sizes, both orders, a random filter', async () => {
    const seen = { pages: 0, multiPage: 0 };
    await fc.assert(
      pagesOnce(() => h, seen),
      { numRuns: 100 },
    );
    // Not vacuous: many runs paged more than once.
    expect(seen.multiPage).toBeGreaterThan(25);
  });

  it('each suite fails when its guarantee is broken', async () => {
    // A keyset on the time alone: rows sharing the last row's timestamp are skipped.
    const broken = await createHarness({
      warehouse: (w) => ({
        ...w,
        kind: w.kind,
        list: (s, q) =>
          w.list(s, {
            ...q,
            after: q.after && { time: q.after.time, eventId: q.order === 'asc' ? '\u{10ffff}' : '' },
          }),
      }),
    });
    try {
      const details = await fc.check(
        pagesOnce(() => broken),
        { numRuns: 60, endOnFailure: true },
      );
      expect(details.failed).toBe(true);
    } finally {
      await broken.close();
    }
  });
});
