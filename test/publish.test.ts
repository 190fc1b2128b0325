import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Delivery, decodeDelivery } from '../src/core/delivery.ts';
import { loadSchemas } from '../src/core/schema-files.ts';
import {
  allAccepted,
  datasetForFile,
  formatSummary,
  type PublishOptions,
  publish,
} from '../src/publish/publish.ts';

const schemas = new Map([...loadSchemas('schemas'), ...loadSchemas('test/fixtures/schemas')]);

/** What the in-test ingest endpoint saw: every delivery, decoded as the real ingest decodes it. */
interface Received {
  delivery: Delivery;
  record: Record<string, unknown>;
}

/** Decides the status of each request; `attempt` counts deliveries of the same event_id. */
type Respond = (r: Received, attempt: number) => number | Promise<number>;

let server: Server;
let endpoint: string;
let received: Received[];
let attempts: Map<string, number>;
let respond: Respond;
let inFlight = 0;
let maxInFlight = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const delivery = decodeDelivery(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      const r: Received = {
        delivery,
        record: JSON.parse(Buffer.from(delivery.message.data!).toString('utf8')),
      };
      received.push(r);
      const id = delivery.message.attributes.event_id ?? '';
      const attempt = (attempts.get(id) ?? 0) + 1;
      attempts.set(id, attempt);
      const status = await respond(r, attempt);
      inFlight--;
      res.statusCode = status;
      res.end(status >= 400 ? JSON.stringify({ code: 'test', status }) : undefined);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
  received = [];
  attempts = new Map();
  respond = () => 204;
  inFlight = 0;
  maxInFlight = 0;
});

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ducto-publish-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fixture(name: string, content: string): string {
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
}

// Rows 0 and 2 are identical: real flights repeat, and they are distinct events.
const FLIGHTS = [
  { date: '2001/01/01 06:55', delay: 12, distance: 500, origin: 'LAX', destination: 'SFO' },
  { date: '2001/01/02 07:10', delay: -3, distance: 2475, origin: 'JFK', destination: 'LAX' },
  { date: '2001/01/01 06:55', delay: 12, distance: 500, origin: 'LAX', destination: 'SFO' },
];

const run = (files: string[], extra: Partial<PublishOptions> = {}) =>
  publish({ files, endpoint, project: 'ducto-test', schemas, progress: false, ...extra });

const byPosition = (file: string, position: number) =>
  createHash('sha256').update(`${file}\n${position}`).digest('hex').slice(0, 20);

/** Received records in file order (deliveries arrive in any order under concurrency). */
function recordsInOrder(ids: string[]): Record<string, unknown>[] {
  const byId = new Map(received.map((r) => [r.delivery.message.attributes.event_id, r.record]));
  return ids.map((id) => byId.get(id)!);
}

describe('publish: file formats', () => {
  it('sends each element of a JSON array as it is, with position ids and the dataset attribute', async () => {
    const file = fixture('flights-mini.json', JSON.stringify(FLIGHTS));
    const summary = await run([file]);
    expect(summary).toMatchObject({
      dataset: 'flights',
      read: 3,
      accepted: 3,
      rejectedByServer: 0,
      invalid: 0,
    });
    expect(allAccepted(summary)).toBe(true);
    const ids = [0, 1, 2].map((p) => byPosition('flights-mini.json', p));
    expect(recordsInOrder(ids)).toEqual(FLIGHTS);
    for (const r of received) {
      expect(r.delivery.message.attributes.dataset).toBe('flights');
      expect(r.delivery.subscription).toBe('projects/ducto-test/subscriptions/flights-ingest');
      expect(r.delivery.message.publishTime).not.toBeNull();
    }
    expect(new Set(received.map((r) => r.delivery.message.messageId)).size).toBe(3);
  });

  it('reads NDJSON line by line and reports a bad line as invalid without shifting the others', async () => {
    const lines = [JSON.stringify(FLIGHTS[0]), '', '{not json', JSON.stringify(FLIGHTS[1]), '[1,2]'];
    const file = fixture('flights.ndjson', `${lines.join('\n')}\n`);
    const summary = await run([file]);
    expect(summary).toMatchObject({ read: 4, accepted: 2, invalid: 2 });
    expect(allAccepted(summary)).toBe(false);
    expect(summary.problems.map((p) => p.position)).toEqual([1, 3]);
    expect(summary.problems[0]!.reason).toMatch(/^line 3:/);
    expect(recordsInOrder([byPosition('flights.ndjson', 0), byPosition('flights.ndjson', 2)])).toEqual([
      FLIGHTS[0],
      FLIGHTS[1],
    ]);
  });

  it('types CSV cells by the schema, leaves empty cells out and counts a short row as invalid', async () => {
    const file = fixture(
      'seattle-weather.csv',
      [
        'date,precipitation,temp_max,temp_min,wind,weather',
        '2012-01-01,0.0,12.8,5.0,4.7,drizzle',
        '2012-01-02,10.9,10.6,2.8,,rain',
        '2012-01-03,0.8,11.7',
        '"2012-01-04",20.3,12.2,5.6,4.7,"rain"',
      ].join('\r\n'),
    );
    const summary = await run([file]);
    expect(summary).toMatchObject({ dataset: 'seattle_weather', read: 4, accepted: 3, invalid: 1 });
    expect(summary.problems).toEqual([{ file, position: 2, reason: 'line 4: 3 columns, the header has 6' }]);
    const day = (d: string) => String(Date.parse(`${d}T00:00:00Z`) * 1000);
    expect(recordsInOrder([day('2012-01-01'), day('2012-01-02'), day('2012-01-04')])).toEqual([
      { date: '2012-01-01', precipitation: 0, temp_max: 12.8, temp_min: 5, wind: 4.7, weather: 'drizzle' },
      { date: '2012-01-02', precipitation: 10.9, temp_max: 10.6, temp_min: 2.8, weather: 'rain' },
      { date: '2012-01-04', precipitation: 20.3, temp_max: 12.2, temp_min: 5.6, wind: 4.7, weather: 'rain' },
    ]);
  });

  it('streams Parquet with integers as numbers and timestamps as ISO 8601 UTC', async () => {
    const file = join(dir, 'flights-sample.parquet');
    const db = await DuckDBInstance.create(':memory:');
    const con = await db.connect();
    await con.run(`COPY (
        SELECT TIMESTAMP '2001-01-01 06:55:00' + INTERVAL (i) MINUTE AS date, (i % 7)::BIGINT AS delay,
               500::INTEGER AS distance, 'LAX' AS origin, 'SFO' AS destination
        FROM range(3000) t(i)
      ) TO '${file}' (FORMAT parquet, ROW_GROUP_SIZE 1000)`);
    con.closeSync();
    db.closeSync();
    const summary = await run([file]);
    expect(summary).toMatchObject({ dataset: 'flights', read: 3000, accepted: 3000, invalid: 0 });
    // Positions follow file order across DuckDB's chunks and row groups.
    const [first, last] = recordsInOrder([
      byPosition('flights-sample.parquet', 0),
      byPosition('flights-sample.parquet', 2999),
    ]);
    expect(first).toEqual({
      date: '2001-01-01T06:55:00.000Z',
      delay: 0,
      distance: 500,
      origin: 'LAX',
      destination: 'SFO',
    });
    expect(last).toMatchObject({
      date: new Date(Date.UTC(2001, 0, 1, 6, 55 + 2999)).toISOString(),
      delay: 2999 % 7,
    });
  });

  it('reports an unreadable file as invalid and goes on with the next one', async () => {
    const broken = fixture('flights-broken.json', '[{"delay": 1}, {"delay":');
    const good = fixture('flights-good.ndjson', JSON.stringify(FLIGHTS[0]));
    const summary = await run([broken, good]);
    expect(summary.invalid).toBeGreaterThanOrEqual(1);
    expect(summary.problems.some((p) => p.file === broken && p.position === null)).toBe(true);
    expect(received.map((r) => r.record)).toContainEqual(FLIGHTS[0]);
    expect(allAccepted(summary)).toBe(false);
    expect(formatSummary(summary)).toContain('flights-broken.json');
  });
});

describe('publish: event ids and datasets', () => {
  it('gives the same ids when the same file is published twice', async () => {
    const file = fixture('flights-twice.json', JSON.stringify(FLIGHTS));
    await run([file]);
    const first = received.map((r) => r.delivery.message.attributes.event_id).sort();
    received = [];
    attempts.clear();
    await run([file]);
    const second = received.map((r) => r.delivery.message.attributes.event_id).sort();
    expect(second).toEqual(first);
    // Identical records at positions 0 and 2 are still distinct events.
    expect(new Set(first).size).toBe(3);
  });

  it('uses the schema key when there is one, as the ingest would derive it (a time key in epoch µs)', async () => {
    const file = fixture(
      'weather.csv',
      'date,precipitation,temp_max,temp_min,wind,weather\n2012-01-01,0,12.8,5,4.7,sun\n2012-01-01,0,12.8,5,4.7,sun\n',
    );
    await run([file], { dataset: 'seattle_weather' });
    expect(received.map((r) => r.delivery.message.attributes.event_id)).toEqual([
      '1325376000000000',
      '1325376000000000',
    ]);
  });

  it.each([
    ['flights-10k.json', undefined, 'flights'],
    ['/data/flights-3m.parquet', undefined, 'flights'],
    ['seattle-weather.csv', undefined, 'seattle_weather'],
    ['seattle_weather.csv', undefined, 'seattle_weather'],
    ['SEATTLE_WEATHER_2014.ndjson', undefined, 'seattle_weather'],
    ['seattle.csv', undefined, 'flights'],
    ['flightsish.json', undefined, 'flights'],
    ['anything.json', 'seattle_weather', 'seattle_weather'],
  ])('resolves the dataset of %s (--dataset %s) to %s', (file, explicit, expected) => {
    expect(datasetForFile(file, schemas, explicit).name).toBe(expected);
  });

  it('refuses an unknown --dataset before sending anything', async () => {
    const file = fixture('flights-x.json', JSON.stringify(FLIGHTS));
    await expect(run([file], { dataset: 'nope' })).rejects.toMatchObject({ code: 'config_invalid' });
    expect(received).toHaveLength(0);
  });
});

describe('publish: delivery', () => {
  it('retries 503 and 429 until the endpoint accepts', async () => {
    respond = (_r, attempt) => (attempt === 1 ? 503 : attempt === 2 ? 429 : 204);
    const file = fixture('flights-retry.json', JSON.stringify(FLIGHTS));
    const summary = await run([file]);
    expect(summary).toMatchObject({ accepted: 3, rejectedByServer: 0, failed: 0 });
    expect(received).toHaveLength(9);
  });

  it('counts a 400 as not accepted, without retrying it', async () => {
    respond = (r) => (r.record.origin === 'JFK' ? 400 : 204);
    const file = fixture('flights-400.json', JSON.stringify(FLIGHTS));
    const summary = await run([file]);
    expect(summary).toMatchObject({ read: 3, accepted: 2, rejectedByServer: 1 });
    expect(summary.problems).toEqual([{ file, position: 1, reason: expect.stringMatching(/^HTTP 400/) }]);
    expect(received).toHaveLength(3);
    expect(allAccepted(summary)).toBe(false);
  });

  it('gives up on a 503 that never ends, after a bounded number of attempts', async () => {
    respond = (r) => (r.record.origin === 'JFK' ? 503 : 204);
    const file = fixture('flights-503.json', JSON.stringify(FLIGHTS));
    const summary = await run([file]);
    expect(summary).toMatchObject({ accepted: 2, rejectedByServer: 1 });
    const attempts = received.filter((r) => r.record.origin === 'JFK').length;
    expect(attempts).toBeGreaterThan(1);
    expect(attempts).toBeLessThanOrEqual(10);
  }, 30_000);

  it('paces messages at --rate', async () => {
    const file = fixture('flights-rate.json', JSON.stringify(Array.from({ length: 50 }, () => FLIGHTS[0])));
    const started = performance.now();
    const summary = await run([file], { rate: 100 });
    expect(summary.accepted).toBe(50);
    // 50 starts spaced 10 ms apart: the last one starts 490 ms after the first.
    expect(performance.now() - started).toBeGreaterThanOrEqual(400);
  });

  it('keeps at most --concurrency requests in flight', async () => {
    respond = () => new Promise((resolve) => setTimeout(() => resolve(204), 15));
    const file = fixture('flights-conc.json', JSON.stringify(Array.from({ length: 60 }, () => FLIGHTS[1])));
    const summary = await run([file], { concurrency: 4 });
    expect(summary.accepted).toBe(60);
    expect(maxInFlight).toBe(4);
  });

  it('stops reading when aborted and says so', async () => {
    const controller = new AbortController();
    respond = () => {
      controller.abort();
      return 204;
    };
    const file = fixture('flights-abort.json', JSON.stringify(Array.from({ length: 500 }, () => FLIGHTS[1])));
    const summary = await run([file], { signal: controller.signal, concurrency: 1 });
    expect(summary.aborted).toBe(true);
    expect(summary.read).toBeLessThan(500);
    expect(allAccepted(summary)).toBe(false);
  });
});
