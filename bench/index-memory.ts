/**
 * Where the soak's memory goes: RSS while 2,000,000 rows are inserted in batches of 1,000 (the shape
 * ingest writes) into a DuckDB table with and without a primary key on event_id (the key ingest's
 * idempotency relies on), each in a fresh child process.
 * `node --import tsx bench/index-memory.ts` prints one line per 500,000 rows and the growth per
 * million rows of each variant.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

const ROWS = 2_000_000;
const BATCH = 1_000;
const EVERY = 500_000;

async function child(withKey: boolean, file: string): Promise<void> {
  const instance = await DuckDBInstance.create(file);
  const c = await instance.connect();
  await c.run(
    `CREATE TABLE t (event_id VARCHAR ${withKey ? 'PRIMARY KEY' : ''}, delay DOUBLE, origin VARCHAR)`,
  );
  const rss = () => process.memoryUsage().rss / 1048576;
  const points: Array<[number, number]> = [];
  for (let b = 0; b < ROWS / BATCH; b++) {
    const rows = Array.from({ length: BATCH }, (_, k) => ({
      event_id: `f3m-${(b * BATCH + k).toString(36)}-${k % 7}`,
      delay: k,
      origin: 'LAX',
    }));
    await c.run(
      `INSERT INTO t SELECT * FROM (SELECT UNNEST(from_json($1::JSON, '[{"event_id":"VARCHAR","delay":"DOUBLE","origin":"VARCHAR"}]'), recursive := true))`,
      [JSON.stringify(rows)],
    );
    if (((b + 1) * BATCH) % EVERY === 0) points.push([(b + 1) * BATCH, rss()]);
  }
  c.closeSync();
  instance.closeSync();
  console.log(JSON.stringify(points));
}

if (process.argv[2] === 'child') {
  await child(process.argv[3] === 'key', process.argv[4]!);
} else {
  const dir = mkdtempSync(join(tmpdir(), 'ducto-index-'));
  try {
    for (const variant of ['key', 'nokey'] as const) {
      const out = execFileSync(
        process.execPath,
        ['--import', 'tsx', import.meta.filename, 'child', variant, join(dir, `${variant}.duckdb`)],
        { encoding: 'utf8' },
      );
      const points = JSON.parse(out.trim().split('\n').pop()!) as Array<[number, number]>;
      for (const [rows, mb] of points)
        console.log(
          `${variant === 'key' ? 'primary key' : 'no key     '}  ${rows.toLocaleString('en').padStart(9)} rows  RSS ${mb.toFixed(0)} MB`,
        );
      // From the second point on: the first includes the one-off growth of a fresh process.
      const [r1, m1] = points[1]!;
      const [r2, m2] = points[points.length - 1]!;
      console.log(`  → ${(((m2 - m1) / (r2 - r1)) * 1e6).toFixed(0)} MB per million rows\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
