import { Agent } from 'node:http';
import { findEmulatorLauncher } from '../src/pubsub/emulator.ts';
import { httpRequest, textOf } from '../support/http.ts';
import { flights10k } from './load.ts';
import type { BenchOptions, ScenarioResult } from './options.ts';
import { goal, table } from './report.ts';
import { DATASET, pubsubSender, type ScenarioServe, serverCounts, startScenarioServe } from './stack.ts';
import { median } from './stats.ts';

/*
 * Transient warehouse failures through Pub/Sub push, as the cloud delivers: flights published to the
 * emulator, pushed by it to `ducto serve`, once with a healthy warehouse and once with 30% of its
 * writes failing (DUCTO_FAULTS, honoured with --allow-faults). The writer retries a failed write in
 * process (src/core/retry.ts); a message whose write still fails at the end of the budget is
 * answered 503 and goes back to Pub/Sub, whose push then slows down for the whole subscription.
 * Throughput is published events ÷ time from the first publish to the last row stored.
 */

const FAULTS = 'warehouse.write.error=0.3';
/** Longest a round may take: Pub/Sub's backoff after refused pushes is minutes, not seconds. */
const ROUND_DEADLINE_MS = 300_000;
const POLL_MS = 100;

interface Subject {
  name: 'clean' | 'faults';
  label: string;
  serve: ScenarioServe;
  runs: Round[];
}

interface Round {
  published: number;
  stored: number;
  seconds: number;
  msgsPerS: number;
  /** Messages answered with a retryable status and so redelivered by Pub/Sub. */
  redelivered: number;
  /** Deliveries of an event stored already (a redelivery after a lost acknowledgement). */
  duplicates: number;
  /** Warehouse writes tried again in process. */
  writeRetries: number;
  /** Rows the table holds for this round's events, read back through the API. */
  rowsInApi: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function writeRetries(agent: Agent, apiUrl: string): Promise<number> {
  const text = textOf(await httpRequest(`${apiUrl}/metrics`, {}, agent));
  let n = 0;
  for (const m of text.matchAll(/^ducto_warehouse_write_retries_total(?:\{[^}]*\})? (\S+)$/gm))
    n += Number(m[1]);
  return n;
}

/** Rows of this round, read back: the API's count of events with the round's origin code. */
async function rowsOf(agent: Agent, apiUrl: string, origin: string): Promise<number> {
  const reply = await httpRequest(
    `${apiUrl}/v1/${DATASET}/stats?origin=${origin}`,
    { headers: { 'cache-control': 'no-cache' } },
    agent,
  );
  const { status } = reply;
  const text = textOf(reply);
  if (status !== 200) throw new Error(`GET /v1/${DATASET}/stats answered ${status}: ${text.slice(0, 200)}`);
  return (JSON.parse(text) as { data: Array<{ count: number }> }).data.reduce((n, d) => n + d.count, 0);
}

async function runRound(s: Subject, round: number, count: number): Promise<Round> {
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const publisher = pubsubSender(s.serve.emulatorHost!);
  try {
    // Each round's events carry an origin code of their own, so the API can count exactly them.
    const origin = `Z${s.name === 'clean' ? 'C' : 'F'}${String.fromCharCode(65 + (round % 26))}`;
    const records = flights10k();
    const before = await serverCounts(agent, s.serve.apiUrl);
    const retriesBefore = await writeRetries(agent, s.serve.apiUrl);
    const started = performance.now();
    await Promise.all(
      Array.from({ length: count }, (_, i) => {
        const record = { ...records[i % records.length]!, origin };
        return publisher.send(`${s.name}-${round}-${i}`, Buffer.from(JSON.stringify(record)), Date.now());
      }),
    );
    let after = before;
    const stored = () => (after.outcomes.stored ?? 0) - (before.outcomes.stored ?? 0);
    while (stored() < count && performance.now() - started < ROUND_DEADLINE_MS) {
      await sleep(POLL_MS);
      after = await serverCounts(agent, s.serve.apiUrl);
    }
    const seconds = (performance.now() - started) / 1000;
    const delta = (outcome: string) => (after.outcomes[outcome] ?? 0) - (before.outcomes[outcome] ?? 0);
    return {
      published: count,
      stored: stored(),
      seconds,
      msgsPerS: stored() / seconds,
      redelivered: delta('retried'),
      duplicates: delta('duplicate'),
      writeRetries: (await writeRetries(agent, s.serve.apiUrl)) - retriesBefore,
      rowsInApi: await rowsOf(agent, s.serve.apiUrl, origin),
    };
  } finally {
    await publisher.close();
    agent.destroy();
  }
}

export async function faultsScenario(o: BenchOptions): Promise<ScenarioResult> {
  if (!findEmulatorLauncher()) {
    const why = 'faults: skipped, the gcloud Pub/Sub emulator is not installed';
    return { data: { skipped: why }, goals: [], errors: [], text: why };
  }
  const count = o.quick ? 500 : 3_000;
  const errors: string[] = [];
  const subjects: Subject[] = [];
  try {
    subjects.push({
      name: 'clean',
      label: 'healthy warehouse',
      serve: await startScenarioServe('push', o, { name: 'faults-clean' }),
      runs: [],
    });
    subjects.push({
      name: 'faults',
      label: `30% of writes fail (DUCTO_FAULTS=${FAULTS})`,
      serve: await startScenarioServe('push', o, {
        name: 'faults-30',
        env: { DUCTO_FAULTS: FAULTS },
        args: ['--allow-faults'],
      }),
      runs: [],
    });
    // Unmeasured: the emulator's JVM and both servers warm up on a small round each.
    for (const s of subjects) await runRound(s, 100, 200);
    for (let round = 0; round < o.runs; round++) {
      for (let k = 0; k < subjects.length; k++) {
        const s = subjects[(round + k) % subjects.length]!;
        const r = await runRound(s, round, count);
        s.runs.push(r);
        if (r.stored !== count || r.rowsInApi !== count)
          errors.push(
            `faults ${s.name} round ${round}: ${r.stored} acknowledged stored and ${r.rowsInApi} rows in the API for ${count} published`,
          );
      }
    }
  } finally {
    await Promise.all(subjects.map((s) => s.serve.stop()));
  }

  const summary = Object.fromEntries(
    subjects.map((s) => [
      s.name,
      {
        msgsPerS: median(s.runs.map((r) => r.msgsPerS)),
        seconds: median(s.runs.map((r) => r.seconds)),
        lost: s.runs.reduce((n, r) => n + r.published - r.rowsInApi, 0),
        duplicated: s.runs.reduce((n, r) => n + Math.max(0, r.rowsInApi - r.published), 0),
        redelivered: s.runs.reduce((n, r) => n + r.redelivered, 0),
        duplicateDeliveries: s.runs.reduce((n, r) => n + r.duplicates, 0),
        writeRetries: s.runs.reduce((n, r) => n + r.writeRetries, 0),
      },
    ]),
  ) as Record<
    Subject['name'],
    {
      msgsPerS: number;
      seconds: number;
      lost: number;
      duplicated: number;
      redelivered: number;
      duplicateDeliveries: number;
      writeRetries: number;
    }
  >;
  const ratio = summary.faults.msgsPerS / summary.clean.msgsPerS;
  const text = [
    `Faults: ${count.toLocaleString('en')} flights published to the Pub/Sub emulator and pushed to ducto serve, ` +
      `${o.runs} round(s) per warehouse, alternated, medians`,
    table(
      ['warehouse', 'msgs/s', 'seconds', 'lost', 'duplicated', 'redelivered by Pub/Sub', 'writes retried'],
      subjects.map((s) => {
        const m = summary[s.name];
        return [s.label, m.msgsPerS, m.seconds, m.lost, m.duplicated, m.redelivered, m.writeRetries];
      }),
    ),
    `with faults ÷ healthy: ${ratio.toFixed(2)}× the throughput`,
  ].join('\n');
  return {
    data: {
      count,
      faults: FAULTS,
      runs: Object.fromEntries(subjects.map((s) => [s.name, s.runs])),
      summary,
      ratios: { faultsVsClean: ratio },
    },
    goals: [
      goal('faults', '30% write failures ÷ healthy (push msgs/s)', ratio, '>=', 0.5, '×'),
      goal('faults', 'events lost with 30% write failures', summary.faults.lost, '<=', 0, ''),
      goal('faults', 'events duplicated with 30% write failures', summary.faults.duplicated, '<=', 0, ''),
    ],
    errors,
    text,
  };
}
