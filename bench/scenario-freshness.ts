import { availableParallelism } from 'node:os';
import { findEmulatorLauncher } from '../src/pubsub/emulator.ts';
import { POLL_MS } from './freshness/constants.ts';
import { type FloorStats, measureEmulatorFloor } from './freshness/floor.ts';
import { measure, type RunStats } from './freshness/measure.ts';
import { pushSender } from './freshness/publish.ts';
import type { BenchOptions, ScenarioResult } from './options.ts';
import { type Goal, goal, table } from './report.ts';
import { DATASET, type EventSender, type Kind, pubsubSender, startScenarioServe } from './stack.ts';

/*
 * End-to-end freshness: from the publish call to the moment the event is visible through the API,
 * at a steady publish rate. The stack runs as `ducto serve` in a child process (which runs the
 * emulator as its own child); this process publishes and polls.
 *
 * How visibility is observed: a poller asks `GET /v1/flights?fields=event_id&from=T` with
 * `Accept: application/x-ndjson` every POLL_MS (start to start), where T is the publish time of the
 * oldest event not seen yet (each event's time field is its publish wall-clock time). NDJSON streams
 * bypass the API's response cache (they answer `cache-control: no-store` and never go through
 * src/api/cache.ts), so a poll always reads the warehouse. An event's freshness is the moment the
 * first response holding it was fully read minus its publish call: an upper bound on the true value,
 * at most one poll interval plus one poll response time above it (both are reported).
 *
 * Subjects, in the same run:
 *   - emulator + pull: `--pubsub=emulator --delivery=pull`, published with the @google-cloud/pubsub
 *     publisher (batching on) to the dataset's topic;
 *   - the emulator alone: the same publisher and rate into an emulator of its own, received by a
 *     streaming-pull subscriber that acknowledges at once (no ducto, no API): the emulator's floor;
 *   - baseline, direct push: `--pubsub=direct`, this process POSTs push envelopes to the ingest
 *     endpoint at the same rate, as Pub/Sub push would (no broker): ducto without the emulator.
 * The emulator's share shows twice: as the floor, and as the gap between the first and last rows.
 */

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return v;
}

export async function freshnessScenario(o: BenchOptions): Promise<ScenarioResult> {
  const rate = envNumber('BENCH_FRESHNESS_RATE', o.quick ? 1_000 : 2_000);
  const seconds = envNumber('BENCH_FRESHNESS_SECONDS', o.quick ? 5 : 30);
  const errors: string[] = [];
  const goals: Goal[] = [];
  const subjects: Array<{ kind: Kind; label: string }> = [
    { kind: 'pull', label: 'emulator + pull delivery (ducto serve --pubsub=emulator --delivery=pull)' },
    { kind: 'direct', label: 'baseline: direct push, no broker (POSTed push envelopes)' },
  ];
  const skipped: string[] = [];
  if (findEmulatorLauncher() === null) {
    skipped.push('emulator + pull: skipped, the gcloud Pub/Sub emulator is not installed');
    console.log(`  freshness: ${skipped[0]}`);
    subjects.shift();
  }

  const results: Partial<Record<Kind, RunStats & { label: string }>> = {};
  let floor: (FloorStats & { label: string }) | null = null;
  for (const s of subjects) {
    if (s.kind === 'direct' && subjects[0]!.kind === 'pull') {
      // Between the two stacks: the emulator alone, at the same rate.
      floor = {
        label: 'emulator alone: publish → streaming-pull subscriber, ack at once (no ducto, no API)',
        ...(await measureEmulatorFloor(o, rate, seconds)),
      };
      if (floor.publishErrors > 0 || floor.lost > 0 || floor.subscriberErrors > 0)
        errors.push(
          `freshness floor: ${floor.publishErrors} publishes failed (${floor.firstPublishError}), ${floor.lost} never received, ${floor.subscriberErrors} subscriber errors`,
        );
    }
    const serve = await startScenarioServe(s.kind, o, { name: 'freshness' });
    let publisher: EventSender | null = null;
    try {
      publisher = s.kind === 'pull' ? pubsubSender(serve.emulatorHost!) : pushSender(serve.ingestUrl);
      // Unmeasured warm-up at the same rate (JIT of the server and of the emulator's JVM).
      const warm = await measure(serve, publisher, `${s.kind}-warm`, rate, o.warmupS);
      if (warm.publishErrors > 0)
        errors.push(
          `freshness ${s.kind} warm-up: ${warm.publishErrors} publishes failed (${warm.firstPublishError})`,
        );
      console.log(`  freshness ${s.kind}: measuring ${seconds} s at ${rate} msg/s`);
      const r = await measure(serve, publisher, s.kind, rate, seconds);
      results[s.kind] = { label: s.label, ...r };
      if (r.publishErrors > 0)
        errors.push(`freshness ${s.kind}: ${r.publishErrors} publishes failed (${r.firstPublishError})`);
      if (r.lost > 0)
        errors.push(`freshness ${s.kind}: ${r.lost} of ${r.published} events never visible in the API`);
      if (r.duplicated > 0) errors.push(`freshness ${s.kind}: ${r.duplicated} events visible more than once`);
      if (r.pollErrors > 0)
        errors.push(`freshness ${s.kind}: ${r.pollErrors} API polls failed (${r.firstPollError})`);
    } finally {
      await publisher?.close();
      await serve.stop();
    }
  }

  const pull = results.pull;
  const direct = results.direct;
  if (pull) {
    goals.push(
      goal(
        'freshness',
        'p99 freshness, publish → API, emulator + pull (s)',
        pull.freshnessMs.p99 / 1000,
        '<=',
        1,
        ' s',
      ),
      goal(
        'freshness',
        'publish rate held (emulator + pull, msg/s)',
        pull.achievedRate,
        '>=',
        rate * 0.98,
        '',
      ),
      goal('freshness', 'events lost (emulator + pull)', pull.lost, '<=', 0, ''),
      goal('freshness', 'events duplicated in the API (emulator + pull)', pull.duplicated, '<=', 0, ''),
    );
  }
  const ratio = pull && direct ? pull.freshnessMs.p99 / direct.freshnessMs.p99 : null;

  const ordered = [results.pull, floor, results.direct].filter((r) => r !== undefined && r !== null);
  const rows = ordered.map((r) => [
    r.label,
    r.achievedRate,
    r.freshnessMs.p50,
    r.freshnessMs.p95,
    r.freshnessMs.p99,
    r.freshnessMs.max,
    `${r.lost}/${r.duplicated}`,
    r.cores.server,
    r.cores.emulator,
    r.cores.bench,
  ]);
  const text = [
    `Freshness: publish → visible through GET /v1/${DATASET} (NDJSON, not cached), ${rate} msg/s for ${seconds} s ` +
      `after a ${o.warmupS} s warm-up; polls every ${POLL_MS} ms`,
    table(
      [
        'path',
        'msg/s',
        'p50 ms',
        'p95 ms',
        'p99 ms',
        'max ms',
        'lost/dup',
        'serve CPU',
        'emulator CPU',
        'bench CPU',
      ],
      rows,
    ),
    ...(Object.entries(results) as Array<[Kind, RunStats & { label: string }]>).map(
      ([k, r]) =>
        `${k}: ${r.published} published (${r.publishRetries} push retries), ${r.seen} seen; ` +
        `polls ${r.polls}, interval p50 ${r.pollIntervalMs.p50} ms / p99 ${r.pollIntervalMs.p99} ms, ` +
        `response p50 ${r.pollResponseMs.p50} ms / p99 ${r.pollResponseMs.p99} ms, largest poll ${r.maxPollRows} rows; ` +
        `ingest outcomes ${JSON.stringify(r.ingest)}; server: publish → durable write ≤ ${r.storedWithinS.p50} s for 50%, ≤ ${r.storedWithinS.p99} s for 99% (histogram bounds); ` +
        `load average ${r.loadAvg[0].toFixed(1)} → ${r.loadAvg[1].toFixed(1)} on ${availableParallelism()} CPUs`,
    ),
    'freshness = first poll response holding the event − publish call: an upper bound, at most one poll interval + one poll response above the true value',
    'polls read the warehouse (NDJSON answers cache-control: no-store, checked on every poll); a JSON list request repeated within ' +
      'DUCTO_CACHE_TTL_MS (5 s by default) is answered from the response cache and can be that much older',
    ...(floor
      ? [
          `floor: ${floor.published} published, ${floor.seen} received, ${floor.duplicated} received twice; ` +
            `load average ${floor.loadAvg[0].toFixed(1)} → ${floor.loadAvg[1].toFixed(1)}`,
        ]
      : []),
    ...(ratio !== null ? [`p99 emulator + pull ÷ p99 direct push: ${ratio.toFixed(2)}×`] : []),
    ...(pull && floor
      ? [
          `p99 emulator alone ÷ p99 emulator + pull: ${(floor.freshnessMs.p99 / pull.freshnessMs.p99).toFixed(2)}`,
        ]
      : []),
    ...skipped,
  ].join('\n');

  return {
    data: {
      rate,
      seconds,
      pollMs: POLL_MS,
      results: { ...results, ...(floor ? { emulatorAlone: floor } : {}) },
      ratioP99PullToDirect: ratio,
      ratioP99EmulatorAloneToPull: pull && floor ? floor.freshnessMs.p99 / pull.freshnessMs.p99 : null,
      skipped,
    },
    goals,
    errors,
    text,
  };
}
