/**
 * Property-based and fuzz tests (fast-check): the decoder and the validator never throw, they classify.
 * Each guarantee is written once as a property over the
 * implementation under test, run against the real code, and run once more against a deliberately
 * broken variant to show that the property can fail.
 *
 * Run counts are fixed and small enough for a loaded two-core machine; seeds are not: a failure prints
 * the seed and the shrunk counterexample, which `fc.assert(..., { seed, path })` replays.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DatasetSchema } from '../src/core/dataset-schema.ts';
import { decodeDelivery } from '../src/core/delivery.ts';
import { createRecordDecoder } from '../src/core/record.ts';
import { createIngestHandler } from '../src/http/ingest-handler.ts';
import { instrumentIngest } from '../src/instrument-ingest.ts';
import { createMetrics } from '../src/metrics.ts';
import { valid as validFlightRecord } from './helpers/malformed.ts';
import {
  anyBody,
  type Decoder,
  decoderClassifies,
  deliveryClassifies,
  expectClassified,
  isClientError,
  isRejectCode,
  MAX_MESSAGE_BYTES,
  memoryIngest,
  mutatedFlight,
  schema,
  schemas,
  serialise,
  validAccepted,
  validDelivery,
  validFlight,
} from './support/arbitraries.ts';

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
