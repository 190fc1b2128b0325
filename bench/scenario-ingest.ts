import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { startServer } from './child.ts';
import { type LoadResult, load, pushTemplates } from './load.ts';
import type { BenchOptions, ScenarioResult } from './options.ts';
import { goal, table } from './report.ts';
import { alternate, type Subject, summarizeRuns } from './subjects.ts';

const CONNECTIONS = 64;

/**
 * Push messages with distinct event ids at 64 connections: ducto's ingest endpoint against the peer
 * pattern (one INSERT per message) and against a server that parses and acknowledges only (the limit).
 */
export async function ingestScenario(o: BenchOptions): Promise<ScenarioResult> {
  const errors: string[] = [];
  const spawn = { cpus: o.serverCpus, timeoutMs: 60_000, env: { BENCH_LOG_FILE: join(o.tmp, 'ingest.log') } };
  const subjects: Subject[] = [];
  try {
    for (const [name, label, args] of [
      ['ducto', 'ducto ingest (micro-batched writer)', [join(o.tmp, 'ingest.duckdb')]],
      ['peer', 'peer: one INSERT per message', [join(o.tmp, 'peer.duckdb')]],
      ['limit', 'limit: parse + 204, no write', []],
    ] as const) {
      const kind = name === 'ducto' ? 'ingest' : name;
      subjects.push({ name, label, server: await startServer(kind, [...args], spawn), runs: [] });
    }
    const templates = pushTemplates();
    const run = (s: Subject, id: string, durationS: number) =>
      load({
        url: s.server.url,
        connections: CONNECTIONS,
        durationS,
        serverPid: s.server.pid,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        bodies: { templates, prefix: `${s.name}-${id}` },
      });
    const check = (s: Subject, id: string, r: LoadResult) => {
      if (r.non2xx > 0 || r.errors > 0)
        errors.push(
          `ingest ${s.name} run ${id}: ${r.non2xx} non-2xx (${JSON.stringify(r.statuses)}), ${r.errors} errors`,
        );
    };

    for (const s of subjects) check(s, 'warm-up', await run(s, 'warm', o.warmupS));
    const exactlyOnce: Array<Record<string, number | boolean>> = [];
    await alternate(subjects, o.runs, async (s, round) => {
      const before = s.name === 'limit' ? null : await s.server.ask<{ acks: number; rows: number }>('stats');
      const r = await run(s, String(round), o.durationS);
      check(s, String(round), r);
      s.runs.push(r);
      if (before) {
        // Every id is new, so the rows stored must be exactly the messages acknowledged. The server
        // counts its acks; the client's 2xx count misses those in flight when the run was cut off.
        const after = await s.server.ask<{ acks: number; rows: number }>('stats');
        const acks = after.acks - before.acks;
        const rows = after.rows - before.rows;
        const ok = rows === acks && acks >= r.ok && acks - r.ok <= CONNECTIONS;
        if (s.name === 'ducto')
          exactlyOnce.push({ round, client2xx: r.ok, serverAcks: acks, rowsStored: rows, ok });
        if (!ok)
          errors.push(
            `ingest ${s.name} run ${round}: ${rows} rows stored for ${acks} acknowledgements (${r.ok} 2xx seen)`,
          );
      }
    });

    const summary = summarizeRuns(subjects, 'msgsPerS');
    const ducto = summary.ducto!;
    const vsPeer = ducto.msgsPerS / summary.peer!.msgsPerS;
    const vsLimit = ducto.msgsPerS / summary.limit!.msgsPerS;
    const generator = subjects[0]!.runs[0]?.generator ?? 'wrk';
    const mismatched = exactlyOnce.filter((e) => !e.ok).length;
    const perRound = (base: string) =>
      subjects[0]!.runs.map((r, i) => r.rps / subjects.find((s) => s.name === base)!.runs[i]!.rps);

    const text = [
      `Ingest: POST push envelopes (flights-10k records, distinct event ids), ${CONNECTIONS} connections, ` +
        `${o.runs} × ${o.durationS} s, medians`,
      table(
        ['server', 'msgs/s', 'p50 ms', 'p99 ms', 'non-2xx', 'server CPU', 'client CPU', 'peak RSS MB'],
        subjects.map((s) => {
          const m = summary[s.name]!;
          return [s.label, m.msgsPerS, m.p50Ms, m.p99Ms, m.non2xx, m.serverCores, m.clientCores, m.peakRssMb];
        }),
      ),
      `exactly once (ducto): ${exactlyOnce
        .map(
          (e) =>
            `run ${e.round}: ${e.rowsStored} rows = ${e.serverAcks} acks (${e.client2xx} 2xx seen) ${e.ok ? '✓' : '✗'}`,
        )
        .join('; ')}`,
      `load generator: ${generator}, ${summary.limit!.clientCores.toFixed(2)} cores while the limit answered ` +
        `${Math.round(summary.limit!.msgsPerS).toLocaleString('en')} msgs/s (of ${availableParallelism()} on this machine)`,
    ].join('\n');
    return {
      data: {
        connections: CONNECTIONS,
        durationS: o.durationS,
        runs: Object.fromEntries(subjects.map((s) => [s.name, s.runs])),
        summary,
        ratios: { vsPeer, vsLimit, vsPeerPerRound: perRound('peer'), vsLimitPerRound: perRound('limit') },
        exactlyOnce,
        generator,
      },
      goals: [
        goal('ingest', 'ducto ÷ peer pattern (msgs/s)', vsPeer, '>=', 20, '×'),
        goal('ingest', 'ducto ÷ limit (msgs/s)', vsLimit, '>=', 0.5, '×'),
        goal('ingest', 'ducto non-2xx responses', ducto.non2xx, '<=', 0, ''),
        goal('ingest', 'ducto runs where rows stored ≠ acks', mismatched, '<=', 0, ''),
      ],
      errors,
      text,
    };
  } finally {
    await Promise.all(subjects.map((s) => s.server.stop()));
  }
}
