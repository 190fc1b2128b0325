import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { duckdbSettings, readConfig } from '../src/config.ts';
import { duckdbDdl } from '../src/core/derive/duckdb-ddl.ts';
import { loadSchemas } from '../src/core/schema-files.ts';
import { ROOT } from '../support/root.ts';
import { BENCH_DIR, runScript } from './child.ts';
import type { BenchOptions, ScenarioResult } from './options.ts';
import { goal, table } from './report.ts';

// The largest batch the service itself writes (DUCTO_BATCH_MAX_ROWS's default): the load goes
// through the writer in the shape ingest gives it, so its peak RSS is the memory of ingesting.
const BATCH = readConfig({}).batch.maxRows;
const CACHE = join(BENCH_DIR, '.cache');
const PARQUET = join(ROOT, 'node_modules/vega-datasets/data/flights-3m.parquet');

interface LoadFigures {
  rows: number;
  batch: number;
  seconds: number;
  rowsPerS: number;
  writeSeconds: number;
  checkpointSeconds: number;
  peakRssMb: number;
  /** The loader's RSS once DuckDB is open and the table made, before any row. */
  rssBeforeRowsMb?: number;
  duckdbMb?: Record<string, number>;
  v8HeapTotalMb?: number;
}

/** RSS of a Node.js process that does nothing, bare and with the tsx loader the bench scripts run under. */
function idleRssMb(): { node: number; nodeWithTsx: number } {
  const rss = (args: string[]) => {
    const out = execFileSync(process.execPath, [...args, '-e', 'console.log(process.memoryUsage().rss)'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    return Number(out.trim()) / 2 ** 20;
  };
  return { node: rss([]), nodeWithTsx: rss(['--import', 'tsx']) };
}

interface Latency {
  rows: number;
  deepOffset: number;
  reps: number;
  medianMs: Record<string, number>;
  samplesMs: Record<string, number[]>;
}

/** The loaded database, reused while the table's DDL and the source file are unchanged. */
async function loadedDatabase(rows: number): Promise<{ db: string; load: LoadFigures; cached: boolean }> {
  const schema = loadSchemas(join(ROOT, 'schemas')).get('flights')!;
  const key = createHash('sha256')
    // DuckDB's threads and memory limit shape the load's peak RSS: another setting is another load.
    .update(
      `${duckdbDdl(schema).events}\n${statSync(PARQUET).size}\n${BATCH}\n${JSON.stringify(duckdbSettings(process.env))}`,
    )
    // So do the loader and its source: a changed loader is a new measurement.
    .update(readFileSync(join(BENCH_DIR, 'flights-3m.ts')))
    .update(readFileSync(join(BENCH_DIR, 'flights-source.ts')))
    .digest('hex')
    .slice(0, 12);
  const db = join(CACHE, `flights-3m-${rows}-${key}.duckdb`);
  const figures = `${db}.json`;
  if (existsSync(db) && existsSync(figures)) {
    return { db, load: JSON.parse(readFileSync(figures, 'utf8')) as LoadFigures, cached: true };
  }
  mkdirSync(CACHE, { recursive: true });
  // Left by an interrupted load: never complete, never reused.
  for (const f of readdirSync(CACHE)) if (f.startsWith('loading-')) rmSync(join(CACHE, f), { force: true });
  const partial = join(CACHE, `loading-${process.pid}.duckdb`);
  rmSync(partial, { force: true });
  rmSync(`${partial}.wal`, { force: true });
  console.log(`  loading ${rows.toLocaleString('en')} rows of flights-3m.parquet through the writer …`);
  // Unpinned: nothing else runs meanwhile, and DuckDB may use every core as it would in `ducto publish`.
  const load = await runScript<LoadFigures>('flights-3m.ts', [partial, String(rows), String(BATCH)], {
    cpus: null,
    timeoutMs: 20 * 60_000,
  });
  if (existsSync(`${partial}.wal`)) throw new Error('the loaded database was not checkpointed on close');
  renameSync(partial, db);
  writeFileSync(figures, JSON.stringify(load));
  return { db, load, cached: false };
}

/**
 * Uncached pages of the flights table loaded from flights-3m.parquet through the writer: the first
 * page and a page ~2.5M rows deep (by cursor) against the bare DuckDB keyset query, and OFFSET for contrast.
 */
export async function pagesScenario(o: BenchOptions): Promise<ScenarioResult> {
  const { db, load, cached } = await loadedDatabase(o.rows);
  const idle = idleRssMb();
  const latency = await runScript<Latency>('page-latency.ts', [db, String(o.reps), String(2.5 / 3)], {
    cpus: null,
    timeoutMs: 20 * 60_000,
  });
  const m = latency.medianMs;
  const first = m['api first page']!;
  const deep = m['api deep page']!;
  // The brief's row-value form `(date, event_id) > (?, ?)` defeats DuckDB's zone maps (it scans like
  // OFFSET does); the goal is held against the faster of the two ways to write the bare query.
  const keyset = Math.min(m['bare keyset (row value)']!, m["bare keyset (ducto's SQL)"]!);
  const offsetName = Object.keys(m).find((k) => k.startsWith('bare OFFSET'))!;
  const ratios = {
    deepVsBareKeyset: deep / keyset,
    deepVsFirst: deep / first,
    firstVsBareFirst: first / m['bare first page']!,
    deepVsRowValueKeyset: deep / m['bare keyset (row value)']!,
    offsetVsBareKeyset: m[offsetName]! / keyset,
  };
  const text = [
    `Load: ${load.rows.toLocaleString('en')} rows through the writer in batches of ${load.batch.toLocaleString('en')}: ` +
      `${Math.round(load.rowsPerS).toLocaleString('en')} rows/s (${load.seconds.toFixed(1)} s, ` +
      `${load.writeSeconds.toFixed(1)} s in write()), peak RSS ${load.peakRssMb.toFixed(0)} MB` +
      (cached ? ' [from an earlier run; cached database reused]' : ''),
    ...(load.rssBeforeRowsMb === undefined
      ? []
      : [
          `  where it goes: an idle Node.js ${idle.node.toFixed(0)} MB, with the tsx loader (development only; ` +
            `the image runs compiled JS) ${idle.nodeWithTsx.toFixed(0)} MB; ducto loaded, DuckDB open, before any row ` +
            `${load.rssBeforeRowsMb.toFixed(0)} MB; DuckDB's own accounting after the last row ` +
            `${Object.entries(load.duckdbMb ?? {})
              .map(([tag, mb]) => `${tag} ${mb.toFixed(0)}`)
              .join(', ')} MB; V8 heap ${load.v8HeapTotalMb!.toFixed(0)} MB`,
        ]),
    `Uncached pages (cache off), ${latency.rows.toLocaleString('en')} rows, deep page at row ` +
      `${latency.deepOffset.toLocaleString('en')}, ${latency.reps} interleaved repetitions, medians`,
    table(
      ['query', 'median ms', '÷ fastest bare keyset'],
      Object.entries(m).map(([name, ms]) => [name, ms, ms / keyset]),
    ),
  ].join('\n');
  return {
    data: { database: relative(ROOT, db), load: { ...load, cached }, idleRssMb: idle, latency, ratios },
    goals: [
      goal('pages', 'deep page ÷ fastest bare keyset query', ratios.deepVsBareKeyset, '<=', 1.5, '×'),
      goal('pages', 'deep page ÷ first page', ratios.deepVsFirst, '<=', 2, '×'),
      goal(
        'pages',
        `peak RSS loading ${load.rows.toLocaleString('en')} rows`,
        load.peakRssMb,
        '<=',
        200,
        ' MB',
      ),
    ],
    errors: [],
    text,
  };
}
