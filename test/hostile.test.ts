import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, flightsSample, type Harness } from './helpers/api-harness.ts';

const INJECTIONS = [
  "' OR '1'='1",
  "LAX' OR 1=1 --",
  '1; DROP TABLE flights',
  "LAX'); DELETE FROM flights; --",
  '1 UNION SELECT * FROM flights_rejected',
  '$1',
  '?',
  '@p0',
  "\\'; --",
  '1)/**/OR/**/(1=1',
];
const PARAMS = [
  'origin',
  'destination',
  'delay.gt',
  'delay.lte',
  'distance.gte',
  'date.lt',
  'from',
  'to',
  'fields',
  'order',
  'limit',
  'cursor',
];

const cases: Array<[string, string, string?]> = [];
for (const p of PARAMS)
  for (const v of INJECTIONS) cases.push([`injection in ${p}`, `/v1/flights?${p}=${encodeURIComponent(v)}`]);
for (const v of INJECTIONS.slice(0, 4)) {
  cases.push([`injection in group_by`, `/v1/flights/stats?group_by=${encodeURIComponent(v)}`]);
  cases.push([`injection in a parameter name`, `/v1/flights?${encodeURIComponent(v)}=1`]);
}
cases.push(
  ['garbage cursor', '/v1/flights?cursor=garbage'],
  [
    'forged cursor',
    `/v1/flights?cursor=${Buffer.from('[1,0,"x","y"]').toString('base64url')}.AAAAAAAAAAAAAAAAAAAAAA`,
  ],
  ['overlong cursor', `/v1/flights?cursor=${'A'.repeat(600)}`],
  ['overflowing integer', '/v1/flights?delay.gt=9223372036854775808'],
  ['overflowing float', '/v1/flights?delay.gt=1e999'],
  ['negative zero limit', '/v1/flights?limit=-0'],
  ['hex number', '/v1/flights?distance.gt=0x1F'],
  ['NaN', '/v1/flights?distance.gt=NaN'],
  ['invalid UTF-8', '/v1/flights?origin=%C3%28'],
  ['lone surrogate', '/v1/flights?origin=%ED%A0%80'],
  ['bad percent-encoding', '/v1/flights?origin=%E0%A4%A'],
  ['NUL byte', '/v1/flights?origin=LAX%00'],
  ['newline header injection', '/v1/flights?origin=LAX%0d%0aSet-Cookie:%20x=1'],
  ['__proto__ parameter', '/v1/flights?__proto__[admin]=1'],
  ['constructor parameter', '/v1/flights?constructor=1'],
  ['prototype parameter', '/v1/flights?prototype=1'],
  ['__proto__ dataset', '/v1/__proto__'],
  ['constructor dataset', '/v1/constructor'],
  ['absurd query length', `/v1/flights?origin=${'A'.repeat(20_000)}`],
  ['absurd value list', `/v1/flights?origin=${Array.from({ length: 500 }, () => 'LAX').join(',')}`],
  ['absurd event id', `/v1/flights/${'x'.repeat(400)}`],
  ['absurd path', `/v1/${'a'.repeat(10_000)}`],
  ['unknown dataset', '/v1/passwords'],
  ['unknown field', '/v1/flights?pilot=x'],
  ['unknown stats dimension', '/v1/flights/stats?group_by=pilot'],
  ['group by a measure', '/v1/flights/stats?group_by=delay'],
  ['too many group_by', '/v1/flights/stats?group_by=origin,destination,origin,destination'],
  ['path traversal', '/v1/../../etc/passwd'],
  ['encoded path traversal', '/v1/%2e%2e%2f%2e%2e%2fetc%2fpasswd'],
  ['traversal in event id', '/v1/flights/..%2F..%2Fetc%2Fpasswd'],
  ['rejected table as dataset', '/v1/flights_rejected'],
  ['contradictory range', '/v1/flights?delay.gt=100&delay.lt=10'],
  ['contradictory time range', '/v1/flights?from=2001-06-01&to=2001-01-01'],
  ['impossible date', '/v1/flights?from=2001-02-30'],
  ['year 0', '/v1/flights?from=0000-01-01'],
  ['duplicate parameter', '/v1/flights?limit=1&limit=2'],
  ['limit too big', '/v1/flights?limit=1000000'],
  ['limit zero', '/v1/flights?limit=0'],
  ['fields unknown', '/v1/flights?fields=password'],
  ['not acceptable', '/v1/flights', 'text/html'],
  ['not acceptable q=0', '/v1/flights', 'application/json;q=0'],
  ['unknown route', '/admin'],
  ['stats with cursor', '/v1/flights/stats?cursor=x'],
  ['event with query', '/v1/flights/abc?limit=5'],
  ['bucket week', '/v1/flights/stats?bucket=week'],
);

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
  await h.ingestAll('flights', flightsSample(500));
});
afterAll(() => h?.close());

describe('hostile requests', () => {
  it('has at least 100 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(100);
  });

  it.each(cases)('%s → a problem+json 4xx (%s)', async (_name, path, accept) => {
    const r = await h.request(path, accept ? { accept } : {});
    expect(r.status, `${path} → ${r.status} ${r.text.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = r.json();
    expect(body.code).toMatch(/^[a-z_]+$/);
    expect(body.status).toBe(r.status);
    expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+|DuckDB|Binder|Parser Error/);
  });

  it('refuses other methods with 405 and Allow', async () => {
    const r = await h.request('/v1/flights', {}, 'DELETE');
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('GET, HEAD');
  });

  it('is healthy afterwards and lost nothing', async () => {
    expect((await h.request('/healthz')).status).toBe(200);
    expect((await h.request('/v1/flights/stats')).json().data[0].count).toBe(500);
    expect(await h.warehouse.count(h.schemas.get('flights')!)).toBe(500);
  });
});
