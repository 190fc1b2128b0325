/**
 * wrk, the C load generator, driving the bench's HTTP runs. A Node generator (autocannon) shares the
 * machine's two cores with the server and saturates first: it then measures itself (14k req/s against
 * a server wrk drives at 17k+). wrk spends a fraction of a core for the same load, and each run reports
 * what it spent, so a reader can see the generator was not the bottleneck.
 *
 * wrk comes from Debian's `wrk` package; `ensureWrk()` installs it the way .ci/run installs promtool
 * (root and apt-get), and says why when it cannot.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuSeconds } from '../support/proc.ts';
import type { LoadOptions, LoadResult } from './load.ts';

/** A run's figures as every load generator reports them; for wrk, `non2xx` counts statuses ≥ 400. */
export type WrkResult = LoadResult & { generator: 'wrk' };

/** wrk's bodies are templates joined with a per-request id (`<prefix>-<thread>-<n>`). */
export type WrkOptions = LoadOptions & { threads?: number };

let available: boolean | null = null;

/** Is wrk on PATH? Installs Debian's package first when running as root with apt-get. */
export function ensureWrk(log: (line: string) => void = console.log): boolean {
  if (available !== null) return available;
  const has = () => spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error === undefined;
  if (
    !has() &&
    process.getuid?.() === 0 &&
    spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0
  ) {
    log('installing wrk (Debian package wrk) for the HTTP load');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
    spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'wrk'], {
      stdio: 'ignore',
      env,
    });
  }
  available = has();
  if (!available)
    log(
      'wrk is not installed and cannot be here (needs root and apt-get): the HTTP load falls back to autocannon, which saturates before a fast server does',
    );
  return available;
}

/** A Lua long-bracket string literal that cannot be closed early by its content. */
function luaString(s: string): string {
  let level = 0;
  // The closing bracket must not occur in the content, nor be made by its last character.
  while (`${s}]`.includes(`]${'='.repeat(level)}]`)) level++;
  const eq = '='.repeat(level);
  return `[${eq}[${s}]${eq}]`;
}

/** The script: request bodies from templates, and a JSON summary on stderr at the end. */
function script(o: WrkOptions): string {
  const lines = [`wrk.method = ${luaString(o.method ?? 'GET')}`];
  for (const [k, v] of Object.entries(o.headers ?? {}))
    lines.push(`wrk.headers[ ${luaString(k)} ] = ${luaString(v)}`);
  if (o.bodies) {
    lines.push('local templates = {');
    for (const parts of o.bodies.templates) lines.push(`{${parts.map(luaString).join(',')}},`);
    lines.push('}');
    lines.push(
      'local counter = 1',
      'local threads = {}',
      // Each thread numbers its requests; its id keeps ids distinct across threads.
      'function setup(thread) thread:set("tid", counter); counter = counter + 1; table.insert(threads, thread) end',
      'local n = 0',
      `local prefix = ${luaString(o.bodies.prefix)}`,
      'function request()',
      '  n = n + 1',
      '  local parts = templates[(n % #templates) + 1]',
      '  local id = prefix .. "-" .. tid .. "-" .. n',
      '  return wrk.format(nil, nil, nil, table.concat(parts, id))',
      'end',
    );
  }
  lines.push(
    'function done(summary, latency, requests)',
    '  local e = summary.errors',
    '  io.stderr:write(string.format(\'WRK{"requests":%d,"duration_us":%d,"status":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"p50_us":%d,"p99_us":%d}\\n\',',
    '    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,',
    '    latency:percentile(50), latency:percentile(99)))',
    'end',
  );
  return `${lines.join('\n')}\n`;
}

/** One bounded wrk run against a local server, with the CPU both sides spent on it. */
export async function wrkLoad(o: WrkOptions): Promise<WrkResult> {
  const url = new URL(o.url);
  if (url.hostname !== '127.0.0.1') throw new Error(`the bench only loads 127.0.0.1, not ${url.hostname}`);
  const dir = mkdtempSync(join(tmpdir(), 'ducto-wrk-'));
  try {
    const lua = join(dir, 'load.lua');
    writeFileSync(lua, script(o));
    const threads = o.threads ?? 2;
    const args = [
      '-t',
      String(threads),
      '-c',
      String(o.connections),
      '-d',
      `${o.durationS}s`,
      '--timeout',
      '10s',
      '-s',
      lua,
      o.url,
    ];
    // bash's `times` prints the CPU its children used: wrk's own, measured by the kernel.
    const child = spawn(
      'bash',
      ['-c', 'wrk "$@" >/dev/null; status=$?; times >&2; exit $status', 'wrk', ...args],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    const serverCpu = cpuSeconds(o.serverPid);
    const wall = performance.now();
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const elapsed = (performance.now() - wall) / 1000;
    const serverCores = (cpuSeconds(o.serverPid) - serverCpu) / elapsed;
    const summary = /WRK(\{.*\})/.exec(stderr)?.[1];
    if (code !== 0 || !summary) throw new Error(`wrk failed (exit ${code}): ${stderr.trim().slice(0, 500)}`);
    const s = JSON.parse(summary) as Record<string, number>;
    // `times` prints the shell's times, then its children's: "0m1.234s 0m0.567s".
    const children = stderr.trim().split('\n').at(-1)!;
    const seconds = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce(
      (t, m) => t + Number(m[1]) * 60 + Number(m[2]),
      0,
    );
    const durationS = s.duration_us! / 1e6;
    const non2xx = s.status!;
    const ok = s.requests! - non2xx;
    return {
      rps: ok / durationS,
      ok,
      non2xx,
      errors: s.connect! + s.read! + s.write! + s.timeout!,
      statuses: non2xx > 0 ? { '>=400': non2xx } : {},
      p50Ms: s.p50_us! / 1000,
      p99Ms: s.p99_us! / 1000,
      serverCores,
      clientCores: seconds / elapsed,
      durationS,
      generator: 'wrk',
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
