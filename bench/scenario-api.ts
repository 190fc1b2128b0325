import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { readConfig } from '../src/config.ts';
import { decodeDelivery } from '../src/core/delivery.ts';
import { buildRuntime } from '../src/runtime.ts';
import { startServer } from './child.ts';
import { flights10k, type LoadResult, load, pushBodies } from './load.ts';
import type { BenchOptions, ScenarioResult } from './options.ts';
import { goal, table } from './report.ts';
import { alternate, type Subject, summarizeRuns } from './subjects.ts';

const CONNECTIONS = 50;
const PATH = '/v1/flights?limit=100';

/** flights-10k into a DuckDB file through ducto's ingest path (decode, validate, micro-batched write). */
async function preload(db: string): Promise<number> {
  const { app, schemas, warehouse, close } = await buildRuntime(
    readConfig({ LOG_LEVEL: 'warn', DUCTO_DB: db }),
  );
  const next = pushBodies('f10k');
  const n = flights10k().length;
  for (let i = 0; i < n; i += 1000) {
    const results = await Promise.all(
      Array.from({ length: Math.min(1000, n - i) }, () =>
        app.ingest(decodeDelivery(JSON.parse(next())), null),
      ),
    );
    const bad = results.find((r) => r.outcome !== 'stored');
    if (bad)
      throw new Error(`preload: ${bad.eventId} was ${bad.outcome} (${bad.code ?? ''} ${bad.detail ?? ''})`);
  }
  const rows = await warehouse.count(schemas.get('flights')!);
  await close();
  return rows;
}

/**
 * A repeated cached page of 100 records at 50 connections: ducto's API against node:http sending the
 * same bytes (the limit) and against the functions-framework running the query on every GET (the peer).
 */
export async function apiScenario(o: BenchOptions): Promise<ScenarioResult> {
  const errors: string[] = [];
  const spawn = { cpus: o.serverCpus, timeoutMs: 60_000, env: { BENCH_LOG_FILE: join(o.tmp, 'api.log') } };
  const db = join(o.tmp, 'api.duckdb');
  const rows = await preload(db);
  const peerDb = join(o.tmp, 'api-peer.duckdb');
  copyFileSync(db, peerDb);
  if (existsSync(`${db}.wal`)) copyFileSync(`${db}.wal`, `${peerDb}.wal`);

  const subjects: Subject[] = [];
  try {
    const api = await startServer('api', [db], spawn);
    subjects.push({ name: 'ducto', label: 'ducto API (cached)', server: api, runs: [] });
    // The limit serves exactly what ducto answers: same status, body bytes and headers.
    const res = await fetch(`${api.url}${PATH}`);
    const body = Buffer.from(await res.arrayBuffer());
    const headers: Record<string, string> = {};
    res.headers.forEach((value, key) => {
      if (!['date', 'connection', 'keep-alive', 'transfer-encoding'].includes(key)) headers[key] = value;
    });
    if (res.status !== 200 || (JSON.parse(body.toString()) as { data: unknown[] }).data.length !== 100)
      throw new Error(`GET ${PATH} on ducto answered ${res.status}`);
    const saved = join(o.tmp, 'api-response.json');
    writeFileSync(saved, JSON.stringify({ status: res.status, headers, body: body.toString('base64') }));
    subjects.push({
      name: 'static',
      label: 'limit: node:http, same bytes',
      server: await startServer('api-static', [saved], spawn),
      runs: [],
    });
    const peer = await startServer('api-peer', [peerDb], spawn);
    subjects.push({
      name: 'peer',
      label: 'peer: functions-framework, query per GET',
      server: peer,
      runs: [],
    });
    const peerRes = await fetch(`${peer.url}${PATH}`);
    const peerBody = (await peerRes.json()) as { data: unknown[] };
    if (peerRes.status !== 200 || peerBody.data.length !== 100)
      throw new Error(`GET ${PATH} on the peer answered ${peerRes.status}`);

    const run = (s: Subject, durationS: number) =>
      load({ url: `${s.server.url}${PATH}`, connections: CONNECTIONS, durationS, serverPid: s.server.pid });
    const check = (s: Subject, id: string, r: LoadResult) => {
      if (r.non2xx > 0 || r.errors > 0)
        errors.push(
          `api ${s.name} run ${id}: ${r.non2xx} non-2xx (${JSON.stringify(r.statuses)}), ${r.errors} errors`,
        );
    };
    for (const s of subjects) check(s, 'warm-up', await run(s, o.warmupS));
    await alternate(subjects, o.runs, async (s, round) => {
      const r = await run(s, o.durationS);
      check(s, String(round), r);
      s.runs.push(r);
    });

    const summary = summarizeRuns(subjects, 'rps');
    const ducto = summary.ducto!;
    const vsStatic = ducto.rps / summary.static!.rps;
    const vsPeer = ducto.rps / summary.peer!.rps;
    // An absolute p99 on two shared cores is mostly the scheduler: it is judged against the limit's.
    const p99VsStatic = ducto.p99Ms / summary.static!.p99Ms;
    const generator = subjects[0]!.runs[0]?.generator ?? 'wrk';
    const text = [
      `API: GET ${PATH} (${body.length} bytes, ${rows.toLocaleString('en')} rows loaded through ingest), ` +
        `${CONNECTIONS} connections, ${o.runs} × ${o.durationS} s, medians`,
      table(
        ['server', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'server CPU', 'client CPU', 'peak RSS MB'],
        subjects.map((s) => {
          const m = summary[s.name]!;
          return [s.label, m.rps, m.p50Ms, m.p99Ms, m.non2xx, m.serverCores, m.clientCores, m.peakRssMb];
        }),
      ),
      `ducto ÷ limit: ${vsStatic.toFixed(2)}× the requests/s, p99 ${p99VsStatic.toFixed(2)}× the limit's; ` +
        `ducto ÷ peer: ${vsPeer.toFixed(1)}× the requests/s`,
      `load generator: ${generator}, ${summary.static!.clientCores.toFixed(2)} cores while the limit answered ` +
        `${Math.round(summary.static!.rps).toLocaleString('en')} req/s (of ${availableParallelism()} on this machine): not the bottleneck ` +
        `while it stays well under one core`,
    ].join('\n');
    return {
      data: {
        connections: CONNECTIONS,
        path: PATH,
        bodyBytes: body.length,
        durationS: o.durationS,
        runs: Object.fromEntries(subjects.map((s) => [s.name, s.runs])),
        summary,
        generator,
        ratios: { vsStatic, vsPeer, p99VsStatic },
      },
      goals: [
        goal('api', 'ducto ÷ node:http same bytes (req/s)', vsStatic, '>=', 0.6, '×'),
        goal('api', "ducto p99 ÷ node:http same bytes' p99", p99VsStatic, '<=', 1.5, '×'),
      ],
      errors,
      text,
    };
  } finally {
    await Promise.all(subjects.map((s) => s.server.stop()));
  }
}
