import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { DuctoError } from './errors.ts';
import type { Keyset } from './warehouse.ts';

/**
 * Opaque keyset cursors. A cursor carries the (time, event_id) position of the last row of a page
 * and a digest of the query it belongs to, signed so that it cannot be forged or edited: replayed
 * with other filters, another order or another dataset it is refused (400), never misread.
 */
export interface CursorCodec {
  encode(position: Keyset, queryDigest: string): string;
  decode(cursor: string, queryDigest: string): Keyset;
}

// The longest cursor the API issues: an event id of 256 UTF-16 units, each JSON-escaped to at most 6
// bytes (`\u0001`), plus the time and the digest, in base64url, and the signature.
const MAX_CURSOR = 2200;

export function queryDigest(parts: readonly string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('base64url').slice(0, 16);
}

export function createCursorCodec(secret: string): CursorCodec {
  const sign = (payload: string) => createHmac('sha256', secret).update(payload).digest().subarray(0, 16);
  return {
    encode(position, digest) {
      const payload = Buffer.from(JSON.stringify([1, position.time, position.eventId, digest])).toString(
        'base64url',
      );
      return `${payload}.${sign(payload).toString('base64url')}`;
    },
    decode(cursor, digest) {
      const bad = (why: string) => new DuctoError('bad_cursor', why);
      if (cursor.length === 0 || cursor.length > MAX_CURSOR) throw bad('the cursor is empty or too long');
      const dot = cursor.indexOf('.');
      if (dot < 1 || !/^[\w-]+\.[\w-]+$/.test(cursor)) throw bad('the cursor is malformed');
      const payload = cursor.slice(0, dot);
      // Compared as text: base64url decoding ignores the spare bits of the last character, so
      // comparing decoded bytes would accept 16 spellings of one signature.
      const mac = Buffer.from(cursor.slice(dot + 1));
      const expected = Buffer.from(sign(payload).toString('base64url'));
      if (mac.length !== expected.length || !timingSafeEqual(mac, expected))
        throw bad('the cursor was not issued by this API');
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      } catch {
        throw bad('the cursor is malformed');
      }
      if (
        !Array.isArray(parsed) ||
        parsed[0] !== 1 ||
        !Number.isSafeInteger(parsed[1]) ||
        typeof parsed[2] !== 'string' ||
        typeof parsed[3] !== 'string'
      ) {
        throw bad('the cursor is malformed');
      }
      if (parsed[3] !== digest)
        throw bad('the cursor belongs to another query: keep the filters and order of the first page');
      return { time: parsed[1] as number, eventId: parsed[2] as string };
    },
  };
}
