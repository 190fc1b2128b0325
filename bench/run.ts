/**
 * `npm run bench [-- --quick] [-- --only ingest,api,pages,freshness,faults]`: ingest throughput, cached
 * API throughput, uncached page latency, freshness through Pub/Sub, and push throughput with 30% of
 * warehouse writes failing, each as a ratio against a baseline measured in the same run
 * (the machine is shared and noisy: absolute figures move, ratios much less). Every figure is a
 * median of several short runs. Writes bench/results/latest.json. Exits non-zero on errors
 * (a server that does not start, non-2xx responses, rows lost or doubled), never on a missed goal.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { VERSION } from '../src/version.ts';
import { allowedCpus } from '../support/proc.ts';
import { ROOT } from '../support/root.ts';
import { killChildren } from '../support/spawn.ts';
import { BENCH_DIR } from './child.ts';
import { renderFigures, replaceFigures } from './doc.ts';
import type { BenchOptions, ScenarioResult } from './options.ts';
import { type Goal, goalLines } from './report.ts';
import { apiScenario } from './scenario-api.ts';
import { faultsScenario } from './scenario-faults.ts';
import { freshnessScenario } from './scenario-freshness.ts';
import { ingestScenario } from './scenario-ingest.ts';
import { pagesScenario } from './scenario-pages.ts';

const SCENARIOS = {
  ingest: ingestScenario,
  api: apiScenario,
  pages: pagesScenario,
  freshness: freshnessScenario,
  faults: faultsScenario,
} as const;
type Name = keyof typeof SCENARIOS;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    duration: { type: 'string' },
    runs: { type: 'string' },
    rows: { type: 'string' },
    reps: { type: 'string' },
    pin: { type: 'boolean', default: false },
    'no-docs': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(`npm run bench -- [--quick] [--only ${Object.keys(SCENARIOS).join(',')}] [--duration S] [--runs N] [--rows N] [--reps N] [--pin] [--no-docs]
  --quick     1 run of 2 s per server, 300k rows for the pages scenario, 5 s of freshness, 500 events per faults round (CI smoke)
  --pin       pin the servers to one CPU and this process (the load generator) to the others
  --no-docs   do not rewrite the figures of docs/performance.md (a full run does, a partial or quick one never)`);
  process.exit(0);
}

function positive(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got "${raw}"`);
  return n;
}

const only = (values.only ?? Object.keys(SCENARIOS).join(',')).split(',') as Name[];
for (const n of only)
  if (!(n in SCENARIOS)) throw new Error(`--only takes ${Object.keys(SCENARIOS).join(', ')}`);

let serverCpus: number[] | null = null;
if (values.pin) {
  const all = allowedCpus();
  if (all.length < 2) throw new Error('--pin needs at least two CPUs');
  serverCpus = all.slice(-1);
  // -a: every thread of this process, so autocannon and libuv never run on the server's CPU.
  execFileSync('taskset', ['-a', '-p', '-c', all.slice(0, -1).join(','), String(process.pid)], {
    stdio: 'ignore',
  });
}

const tmp = mkdtempSync(join(tmpdir(), 'ducto-bench-'));
const options: BenchOptions = {
  quick: values.quick,
  durationS: positive('duration', values.duration, values.quick ? 2 : 5),
  warmupS: values.quick ? 1 : 2,
  runs: Math.round(positive('runs', values.runs, values.quick ? 1 : 3)),
  rows: Math.round(positive('rows', values.rows, values.quick ? 300_000 : 3_000_000)),
  reps: Math.round(positive('reps', values.reps, values.quick ? 10 : 25)),
  serverCpus,
  tmp,
};

const cleanup = () => {
  killChildren();
  rmSync(tmp, { recursive: true, force: true });
};
process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    cleanup();
    process.exit(130);
  });
}

const started = new Date();
const loadStart = loadavg();
const texts: Array<{ name: string; text: string }> = [];
const results: Partial<Record<Name, ScenarioResult['data']>> = {};
const goals: Goal[] = [];
const errors: string[] = [];
console.log(
  `ducto bench ${values.quick ? '(quick) ' : ''}on ${availableParallelism()} CPUs (${cpus()[0]?.model ?? '?'}), ` +
    `Node ${process.versions.node}; servers ${serverCpus ? `pinned to CPU ${serverCpus.join(',')}` : 'not pinned'}\n`,
);
for (const name of only) {
  const t = performance.now();
  try {
    const r = await SCENARIOS[name](options);
    results[name] = r.data;
    goals.push(...r.goals);
    errors.push(...r.errors);
    texts.push({ name, text: r.text });
    console.log(`${r.text}\n(${((performance.now() - t) / 1000).toFixed(0)} s)\n`);
  } catch (error) {
    errors.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    console.error(`${name} failed:`, error);
    killChildren();
  }
}

if (goals.length > 0) console.log(`${goalLines(goals)}\n`);
for (const e of errors) console.error(`error: ${e}`);

const out = join(BENCH_DIR, 'results');
mkdirSync(out, { recursive: true });
const file = join(out, 'latest.json');
writeFileSync(
  `${file}.tmp`,
  `${JSON.stringify(
    {
      version: VERSION,
      startedAt: started.toISOString(),
      finishedAt: new Date().toISOString(),
      machine: { cpus: availableParallelism(), model: cpus()[0]?.model ?? null, node: process.versions.node },
      options: { ...options, tmp: undefined },
      // Tuning passed through to the servers, so that a result can be reproduced.
      env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('DUCTO_'))),
      goals,
      errors,
      results,
    },
    null,
    2,
  )}\n`,
);
renameSync(`${file}.tmp`, file);
console.log(`results: ${file}`);

// docs/performance.md quotes a whole run only: every scenario, full length, and no errors.
const full = !values.quick && only.length === Object.keys(SCENARIOS).length && errors.length === 0;
if (full && !values['no-docs']) {
  const doc = join(ROOT, 'docs/performance.md');
  replaceFigures(
    doc,
    renderFigures(
      {
        startedAt: started.toISOString(),
        machine: `${availableParallelism()} CPUs (${cpus()[0]?.model ?? '?'})`,
        node: process.versions.node,
        loadAverage: { start: loadStart, end: loadavg() },
        options: `${options.runs} runs of ${options.durationS} s per server after ${options.warmupS} s of warm-up, ${options.rows.toLocaleString('en')} rows for the pages, servers ${serverCpus ? `pinned to CPU ${serverCpus.join(',')}` : 'not pinned'}`,
      },
      goals,
      texts,
    ),
  );
  console.log(`figures written to ${doc}`);
} else {
  console.log('docs/performance.md left as it is (only a full run without errors rewrites its figures)');
}
process.exit(errors.length > 0 ? 1 : 0);
