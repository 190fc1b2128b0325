/**
 * Property-based and fuzz tests (fast-check): cursors round-trip and refuse tampering.
 * Each guarantee is written once as a property over the
 * implementation under test, run against the real code, and run once more against a deliberately
 * broken variant to show that the property can fail.
 *
 * Run counts are fixed and small enough for a loaded two-core machine; seeds are not: a failure prints
 * the seed and the shrunk counterexample, which `fc.assert(..., { seed, path })` replays.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_EVENT_ID } from '../src/core/classify.ts';
import { type CursorCodec, createCursorCodec, queryDigest } from '../src/core/cursor.ts';
import { DuctoError } from '../src/core/errors.ts';
import { parseListQuery, parseParams } from '../src/core/query.ts';
import type { Keyset } from '../src/core/warehouse.ts';
import {
  expectClassified,
  listQueryString,
  MAX_QUERY_LENGTH,
  schema,
  schemas,
} from './support/arbitraries.ts';

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
