/**
 * `npm run load -- [options]`: a mixed load and soak generator. A publisher POSTs Pub/Sub push
 * envelopes of real flights records to the ingest endpoint at a steady, scheduled rate while API
 * consumers loop over a weighted mix of reads (cursor pages, filtered lists, NDJSON streams, stats,
 * get by id of published events). `--find-max` first ramps the publish rate in steps to find the
 * highest rate sustained without errors, then soaks at a fraction of it. At the end the rows stored
 * in the warehouse must equal the messages acknowledged (exactly once), and the server's memory is
 * summarised as a trend. Loopback only; every phase is bounded and the run stops by itself. Exits
 * non-zero when an operation had errors, rows stored != acknowledged, or the stack died.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { formatReport } from './workload/format.ts';
import { runWorkload } from './workload/run.ts';
import type { WorkloadOptions } from './workload/types.ts';

export { expectStatus } from './workload/http.ts';
export { DEFAULT_OPERATIONS, type Operation } from './workload/operations.ts';
export { runWorkload } from './workload/run.ts';

// ---------------------------------------------------------------------------------------------
// CLI

const HELP = `npm run load -- [options]
  --duration S         seconds of the steady (soak) phase (default 60)
  --rate N             publish messages per second in the steady phase (default 1000)
  --consumers N        concurrent API consumers (default 8)
  --in-flight N        publish requests in flight at most (default 256)
  --find-max           first ramp the publish rate in steps to the highest sustained rate
  --soak-fraction F    with --find-max: soak at F × the maximum for --duration (default 0.7; 0 = probe only)
  --start-rate N       with --find-max: rate of the first step (default 500)
  --step S             with --find-max: seconds per step (default 10)
  --max-rate N         with --find-max: never offer more than this (default 50000)
  --json FILE          write the machine-readable report there
  --url URL            API of an already-running stack (loopback only); needs --ingest-url
  --ingest-url URL     its ingest push endpoint
  --pid N              with --url: the server process whose RSS and CPU are sampled
Without --url, a \`ducto serve --pubsub=direct --no-seed\` child runs on free loopback ports with a
scratch DuckDB file, and is stopped and removed at the end.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '60' },
      rate: { type: 'string', default: '1000' },
      consumers: { type: 'string', default: '8' },
      'in-flight': { type: 'string', default: '256' },
      'find-max': { type: 'boolean', default: false },
      'soak-fraction': { type: 'string', default: '0.7' },
      'start-rate': { type: 'string', default: '500' },
      step: { type: 'string', default: '10' },
      'max-rate': { type: 'string', default: '50000' },
      json: { type: 'string' },
      url: { type: 'string' },
      'ingest-url': { type: 'string' },
      pid: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const num = (name: string, raw: string) => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw new Error(`--${name} must be a number, not "${raw}"`);
    return n;
  };
  const controller = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => controller.abort());
  const options: WorkloadOptions = {
    durationS: num('duration', values.duration),
    rate: num('rate', values.rate),
    consumers: Math.round(num('consumers', values.consumers)),
    inFlight: Math.round(num('in-flight', values['in-flight'])),
    findMax: values['find-max']
      ? {
          startRate: num('start-rate', values['start-rate']),
          stepS: num('step', values.step),
          factor: 1.5,
          maxRate: num('max-rate', values['max-rate']),
          maxSteps: 16,
        }
      : null,
    soakFraction: num('soak-fraction', values['soak-fraction']),
    apiUrl: values.url,
    ingestUrl: values['ingest-url'],
    pid: values.pid === undefined ? undefined : num('pid', values.pid),
    progress: process.stderr.isTTY === true,
    log: (line) => console.error(line),
    signal: controller.signal,
  };
  const report = await runWorkload(options);
  console.log(formatReport(report));
  if (values.json) {
    const file = resolve(values.json);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(`${file}.tmp`, `${JSON.stringify(report, null, 2)}\n`);
    renameSync(`${file}.tmp`, file);
    console.log(`report: ${values.json}`);
  }
  return report.ok ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(`load: ${(e as Error).message ?? String(e)}`);
      process.exit(2);
    },
  );
}
