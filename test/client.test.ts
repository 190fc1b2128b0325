/**
 * The typed client (clients/typescript) against a running local stack: it walks every page of a
 * held-out file and sees each event exactly once, streams a range, reads stats and one event, turns a
 * 400 into a typed problem, and retries a 503 after its Retry-After.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDuctoClient, DuctoProblem } from '../clients/typescript/src/index.ts';
import type { Stack } from '../src/cli/serve.ts';
import { DuctoError } from '../src/core/errors.ts';
import { ROOT } from '../support/root.ts';
import { pool, push } from './helpers/push-client.ts';
import { stackFactory } from './helpers/stacks.ts';

type Flight = { date: string; delay: number; distance: number; origin: string; destination: string };

// Not the bundled sample the local stack seeds from: a file the API has never been shown.
const held = (
  JSON.parse(readFileSync(join(ROOT, 'node_modules/vega-datasets/data/flights-2k.json'), 'utf8')) as Flight[]
).slice(0, 1_500);
const id = (i: number) => `held-${i}`;

const factory = stackFactory('client');
let stack: Stack;
let failReads = 0;

beforeAll(async () => {
  stack = await factory.start(
    'client',
    {},
    {
      wrapWarehouse: (w) => ({
        ...w,
        kind: w.kind,
        list: async (schema, q) => {
          if (failReads > 0) {
            failReads--;
            throw new DuctoError('warehouse_unavailable', 'injected read failure');
          }
          return w.list(schema, q);
        },
      }),
    },
  );
  await pool(
    held.map((r, i) => [r, i] as const),
    32,
    async ([r, i]) => {
      expect(
        await push(`${stack.ingestUrl}/`, JSON.stringify(r), id(i), { event_id: id(i), dataset: 'flights' }),
      ).toBe(204);
    },
  );
}, 120_000);
afterAll(() => factory.stopAll());

describe('the typed client against the local stack', () => {
  it('walks every page of a held-out file and sees each event exactly once', async () => {
    const ducto = createDuctoClient({ baseUrl: stack.apiUrl });
    const seen = new Map<string, number>();
    let pages = 0;
    for await (const flight of ducto.events('flights', { limit: 97, fields: 'origin,delay' })) {
      seen.set(flight.event_id, (seen.get(flight.event_id) ?? 0) + 1);
      if (seen.size % 97 === 0) pages++;
    }
    expect(seen.size).toBe(held.length);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(pages).toBeGreaterThan(10);
  });

  it('filters with typed parameters, streams a range as NDJSON, and reads stats and one event', async () => {
    const ducto = createDuctoClient({ baseUrl: stack.apiUrl });
    const lax = held.filter((r) => r.origin === 'LAX' && r.delay >= 30).length;
    let filtered = 0;
    for await (const f of ducto.events('flights', { origin: 'LAX', 'delay.gte': 30, limit: 1000 })) {
      expect(f.origin).toBe('LAX');
      filtered++;
    }
    expect(filtered).toBe(lax);

    const from = '2001-01-02T00:00:00Z';
    const to = '2001-01-05T00:00:00Z';
    const inRange = held.filter((r) => {
      const t = Date.parse(`${r.date.replace(/\//g, '-').replace(' ', 'T')}:00Z`);
      return t >= Date.parse(from) && t < Date.parse(to);
    }).length;
    expect(inRange).toBeGreaterThan(0);
    let streamed = 0;
    for await (const f of ducto.stream('flights', { from, to })) {
      expect(typeof f.event_id).toBe('string');
      streamed++;
    }
    expect(streamed).toBe(inRange);

    const groups = await ducto.stats('flights', { group_by: 'origin' });
    expect(groups.reduce((n, g) => n + g.count, 0)).toBe(held.length);
    expect(await ducto.get('flights', id(7))).toMatchObject({ event_id: id(7), origin: held[7]!.origin });
    expect(await ducto.get('flights', 'no-such-event')).toBeNull();

    // Filters are typed per dataset: a field that is not one does not compile.
    // @ts-expect-error `nope` is not a filter of flights
    const wrong = () => ducto.list('flights', { nope: 1 });
    expect(typeof wrong).toBe('function');
  });

  it('throws a typed problem for a bad request', async () => {
    const ducto = createDuctoClient({ baseUrl: stack.apiUrl });
    const error = await ducto
      .list('flights', { 'delay.gte': 'soon' as unknown as number })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DuctoProblem);
    expect(error).toMatchObject({ status: 400, code: 'bad_parameter', parameter: 'delay.gte' });
  });

  it('retries a 503 after its Retry-After, and gives up after its retries', async () => {
    failReads = 2;
    const patient = createDuctoClient({ baseUrl: stack.apiUrl, retries: 3, maxRetryDelayMs: 20 });
    const page = await patient.list('flights', { limit: 5, origin: 'SFO', 'distance.gte': 1 });
    expect(page.data.length).toBeGreaterThan(0);
    expect(failReads).toBe(0);

    failReads = 1;
    const impatient = createDuctoClient({ baseUrl: stack.apiUrl, retries: 0 });
    const error = await impatient.list('flights', { limit: 5, origin: 'JFK' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 503, code: 'warehouse_unavailable' });
  });
});
