import { describe, expect, it } from 'vitest';
import { createRecordDecoder } from '../src/core/record.ts';
import { enc, MALFORMED, valid } from './helpers/malformed.ts';
import { flights, seattleWeather } from './helpers/schemas.ts';

const decode = createRecordDecoder(flights(), { maxBytes: 4096 });
describe('record decoder', () => {
  it('accepts a valid record in the source format and in ISO 8601', () => {
    const a = decode(enc(JSON.stringify(valid)));
    const b = decode(enc(JSON.stringify({ ...valid, date: '2001-01-01T06:55:00Z' })));
    expect(a).toMatchObject({ ok: true, time: Date.UTC(2001, 0, 1, 6, 55) * 1000, key: null });
    expect(b).toEqual(a);
  });

  it('treats times without a zone as UTC and honours offsets', () => {
    const r = decode(enc(JSON.stringify({ ...valid, date: '2001-01-01T08:55:00+02:00' })));
    expect(r.ok && r.time).toBe(Date.UTC(2001, 0, 1, 6, 55) * 1000);
  });

  it.each(MALFORMED)('rejects %s', (_kind, data, code) => {
    const r = decode(data);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe(code);
      expect(r.detail.length).toBeGreaterThan(0);
    }
  });

  it('covers at least 15 distinct malformed kinds', () => {
    expect(MALFORMED.length).toBeGreaterThanOrEqual(15);
    expect(new Set(MALFORMED.map((m) => m[2])).size).toBeGreaterThanOrEqual(12);
  });

  it('derives the key from the schema key field and accepts optional nulls', () => {
    const d = createRecordDecoder(seattleWeather(), { maxBytes: 4096 });
    const r = d(
      enc(
        JSON.stringify({
          date: '2012-01-01',
          precipitation: 0,
          temp_max: 12.8,
          temp_min: 5,
          wind: null,
          weather: 'drizzle',
        }),
      ),
    );
    expect(r).toMatchObject({ ok: true, key: String(Date.UTC(2012, 0, 1) * 1000) });
    const bad = d(
      enc(
        JSON.stringify({
          date: '2012-01-01',
          precipitation: 0,
          temp_max: 12.8,
          temp_min: 5,
          weather: 'hail',
        }),
      ),
    );
    expect(bad).toMatchObject({ ok: false, code: 'bad_format' });
  });
});
