import { describe, expect, it } from 'vitest';
import { negotiate } from '../src/api/negotiate.ts';
import { createCursorCodec, queryDigest } from '../src/core/cursor.ts';
import { parseListQuery, parseParams, parseStatsQuery } from '../src/core/query.ts';
import { flights } from './helpers/schemas.ts';

const schema = flights();
const list = (q: string, stream = false) => parseListQuery(schema, parseParams(q, 4096), stream);

describe('query parameters', () => {
  it('compiles filters, order, limit and projection into the port query', () => {
    const p = list(
      'origin=LAX,SFO&delay.gte=30&delay.lt=60&from=2001-01-01&to=2001-02-01T00:00:00Z&order=desc&limit=10&fields=delay,origin',
    );
    expect(p.query).toEqual({
      filters: [
        { field: 'date', op: 'gte', values: [Date.UTC(2001, 0, 1) * 1000] },
        { field: 'date', op: 'lt', values: [Date.UTC(2001, 1, 1) * 1000] },
        { field: 'delay', op: 'gte', values: [30] },
        { field: 'delay', op: 'lt', values: [60] },
        { field: 'origin', op: 'in', values: ['LAX', 'SFO'] },
      ],
      order: 'desc',
      limit: 10,
      after: null,
      fields: ['delay', 'origin'],
    });
  });

  it('defaults to 100 rows, ascending; a stream has no limit unless asked', () => {
    expect(list('').query).toMatchObject({ limit: 100, order: 'asc', fields: null, filters: [] });
    expect(list('', true).query.limit).toBeNull();
    expect(list('limit=5', true).query.limit).toBe(5);
  });

  it('gives the same identity whatever the parameter order, and another for other filters', () => {
    expect(list('origin=LAX&delay.gt=1').identity).toEqual(list('delay.gt=1&origin=LAX').identity);
    expect(list('origin=LAX').identity).not.toEqual(list('origin=SFO').identity);
    expect(list('origin=LAX&limit=5').identity).toEqual(list('origin=LAX&limit=50').identity);
  });

  it.each([
    ['limit=0', 'bad_parameter'],
    ['limit=1001', 'bad_parameter'],
    ['limit=1e3', 'bad_parameter'],
    ['limit=-1', 'bad_parameter'],
    ['order=sideways', 'bad_parameter'],
    ['origin=LAX&origin=SFO', 'bad_parameter'],
    ['origin=lax', 'bad_parameter'],
    ["origin=LAX'--", 'bad_parameter'],
    ['delay.gte=abc', 'bad_parameter'],
    ['delay.gte=0x10', 'bad_parameter'],
    ['delay.gte=Infinity', 'bad_parameter'],
    ['delay.gte=1e400', 'bad_parameter'],
    ['delay.gte=99999999999999999999', 'bad_parameter'],
    ['delay.gte=', 'bad_parameter'],
    ['delay.gte=10&delay.lte=5', 'bad_parameter'],
    ['from=2001-02-01&to=2001-01-01', 'bad_parameter'],
    ['from=yesterday', 'bad_parameter'],
    ['from=2001-02-30', 'bad_parameter'],
    ['origin.gt=A', 'unknown_parameter'],
    ['delay=5', 'unknown_parameter'],
    ['gate=A1', 'unknown_parameter'],
    ['__proto__=x', 'unknown_parameter'],
    ['constructor.prototype=x', 'unknown_parameter'],
    ['fields=delay,delay', 'bad_parameter'],
    ['fields=password', 'bad_parameter'],
    ['group_by=origin', 'unknown_parameter'],
    ['origin=%ZZ', 'bad_request'],
    ['origin=%FF', 'bad_request'],
    ['origin=%00', 'bad_request'],
    [`origin=${Array.from({ length: 101 }, () => 'LAX').join(',')}`, 'bad_parameter'],
  ])('refuses %s with %s', (q, code) => {
    expect(() => list(q)).toThrow(expect.objectContaining({ code }));
  });

  it('refuses an overlong query string with 414', () => {
    expect(() => parseParams(`origin=${'A'.repeat(5000)}`, 4096)).toThrow(
      expect.objectContaining({ code: 'query_too_large', status: 414 }),
    );
  });

  it('parses stats grouping and buckets', () => {
    const s = parseStatsQuery(schema, parseParams('group_by=origin,destination&bucket=day&delay.gt=0', 4096));
    expect(s).toEqual({
      filters: [{ field: 'delay', op: 'gt', values: [0] }],
      groupBy: ['origin', 'destination'],
      bucket: 'day',
    });
    expect(() => parseStatsQuery(schema, parseParams('group_by=delay', 4096))).toThrow(
      expect.objectContaining({ code: 'bad_parameter' }),
    );
    expect(() => parseStatsQuery(schema, parseParams('bucket=week', 4096))).toThrow(
      expect.objectContaining({ code: 'bad_parameter' }),
    );
    expect(() => parseStatsQuery(schema, parseParams('limit=5', 4096))).toThrow(
      expect.objectContaining({ code: 'unknown_parameter' }),
    );
  });
});

describe('cursor', () => {
  const codec = createCursorCodec('secret');
  const digest = queryDigest(['flights', 'asc']);

  it('round-trips a position bound to its query', () => {
    const c = codec.encode({ time: 978307260000000, eventId: 'abc' }, digest);
    expect(codec.decode(c, digest)).toEqual({ time: 978307260000000, eventId: 'abc' });
  });

  it('refuses a cursor replayed with another query', () => {
    const c = codec.encode({ time: 1, eventId: 'abc' }, digest);
    expect(() => codec.decode(c, queryDigest(['flights', 'desc']))).toThrow(
      expect.objectContaining({ code: 'bad_cursor' }),
    );
  });

  it('refuses tampered, forged and garbage cursors', () => {
    const c = codec.encode({ time: 1, eventId: 'abc' }, digest);
    const [payload, mac] = c.split('.');
    const edited = Buffer.from(JSON.stringify([1, 2, 'abc', digest])).toString('base64url');
    for (const bad of [
      `${edited}.${mac}`,
      `${payload}.${mac!.slice(0, -2)}AA`,
      createCursorCodec('other').encode({ time: 1, eventId: 'abc' }, digest),
      'x',
      '',
      '...',
      'a'.repeat(600),
      "' OR 1=1 --",
    ]) {
      expect(() => codec.decode(bad, digest)).toThrow(expect.objectContaining({ code: 'bad_cursor' }));
    }
  });
});

describe('content negotiation', () => {
  it.each([
    [undefined, 'json'],
    ['*/*', 'json'],
    ['application/json', 'json'],
    ['application/x-ndjson', 'ndjson'],
    ['text/csv', 'csv'],
    ['text/*', 'csv'],
    ['text/csv;q=0.5, application/x-ndjson', 'ndjson'],
    ['text/html, */*;q=0.1', 'json'],
  ])('%s → %s', (accept, rep) => {
    expect(negotiate(accept)).toBe(rep);
  });

  it('answers 406 for what is not offered', () => {
    expect(() => negotiate('text/html')).toThrow(
      expect.objectContaining({ code: 'not_acceptable', status: 406 }),
    );
    expect(() => negotiate('application/json;q=0')).toThrow(
      expect.objectContaining({ code: 'not_acceptable' }),
    );
  });
});
