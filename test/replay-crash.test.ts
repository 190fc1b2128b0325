/**
 * `ducto replay --rejected` killed with SIGKILL half way, then run again: every recoverable event is
 * stored exactly once and none is lost, and every rejected row ends marked.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { readConfig } from '../src/config.ts';
import { parseDatasetSchema } from '../src/core/dataset-schema.ts';
import { decodeDelivery, encodePushEnvelope } from '../src/core/delivery.ts';
import { createLogger } from '../src/logger.ts';
import { buildRuntime } from '../src/runtime.ts';
import { ROOT } from '../support/root.ts';

const dir = mkdtempSync(join(tmpdir(), 'ducto-replay-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The flights schema with `delay` capped at `max` minutes. */
function flightsSchema(max: number): Record<string, unknown> {
  const raw = JSON.parse(readFileSync(join(ROOT, 'schemas/flights.json'), 'utf8')) as {
    fields: Array<Record<string, unknown>>;
  };
  for (const f of raw.fields) if (f.name === 'delay') f.maximum = max;
  return raw;
}

const TOTAL = 3_000;

describe('ducto replay --rejected, killed half way', () => {
  it('stores each recoverable event once when run again, and marks every row', async () => {
    const db = join(dir, 'crash.duckdb');
    const relaxed = join(dir, 'schemas');
    mkdirSync(relaxed);
    writeFileSync(join(relaxed, 'flights.json'), JSON.stringify(flightsSchema(10_080)));
    const config = readConfig({ DUCTO_DB: db, LOG_LEVEL: 'silent' });

    // Rejected under the strict schema: delays over 100 minutes.
    const strict = await buildRuntime(config, {
      logger: createLogger('silent'),
      schemas: new Map([['flights', parseDatasetSchema(flightsSchema(100))]]),
    });
    await Promise.all(
      Array.from({ length: TOTAL }, (_, i) =>
        strict.app.ingest(
          decodeDelivery(
            JSON.parse(
              encodePushEnvelope(
                JSON.stringify({
                  date: '2001-03-04T05:06:00Z',
                  delay: 200 + (i % 500),
                  distance: 10,
                  origin: 'LAX',
                  destination: 'SFO',
                }),
                `m-${i}`,
                { dataset: 'flights', event_id: `crash-${i}` },
              ),
            ),
          ),
          null,
        ),
      ),
    );
    await strict.close();

    const env = { ...process.env, DUCTO_DB: db, DUCTO_SCHEMAS: relaxed, LOG_LEVEL: 'debug' };
    const replay = () =>
      spawn(process.execPath, [join(ROOT, 'bin/ducto.mjs'), 'replay', '--rejected', '--dataset', 'flights'], {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });

    // Killed as soon as it reports its first page written and marked, with more pages to go.
    const first = replay();
    const progressed = await new Promise<number>((resolve, reject) => {
      const lines = createInterface({ input: first.stdout! });
      lines.on('line', (line) => {
        if (!line.includes('replay progress')) return;
        const n = (JSON.parse(line) as { replay: { messages: number } }).replay.messages;
        first.kill('SIGKILL');
        resolve(n);
      });
      first.once('exit', (code) =>
        reject(new Error(`the replay exited (${code}) before reporting progress`)),
      );
    });
    await new Promise((r) => first.once('exit', r));
    expect(progressed).toBeLessThan(TOTAL);

    const second = replay();
    let out = '';
    second.stdout!.on('data', (c) => (out += c));
    second.stderr!.on('data', (c) => (out += c));
    const code = await new Promise((r) => second.once('exit', r));
    expect(code, out).toBe(0);

    const after = await buildRuntime(
      readConfig({ DUCTO_DB: db, DUCTO_SCHEMAS: relaxed, LOG_LEVEL: 'silent' }),
      {
        logger: createLogger('silent'),
      },
    );
    const schema = after.schemas.get('flights')!;
    const ids = new Set<string>();
    let rows = 0;
    for await (const chunk of after.warehouse.stream(schema, {
      filters: [],
      order: 'asc',
      limit: null,
      after: null,
      fields: null,
    })) {
      for (const r of chunk) {
        rows++;
        ids.add(r.event_id);
      }
    }
    expect(rows).toBe(TOTAL);
    expect(ids.size).toBe(TOTAL);
    const rejected = await after.warehouse.rejected(schema, TOTAL + 10);
    expect(rejected).toHaveLength(TOTAL);
    expect(rejected.filter((r) => r.replayOutcome !== 'stored' && r.replayOutcome !== 'duplicate')).toEqual(
      [],
    );
    await after.close();
  }, 180_000);
});
