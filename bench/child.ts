import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const BENCH_DIR = import.meta.dirname;
export const ROOT = join(BENCH_DIR, '..');

/** A free loopback port (asked of the OS, then released). */
export async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

const live = new Set<ChildProcess>();

/** Kills every child still running; called on exit, on signals and on errors. */
export function killChildren(): void {
  for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  live.clear();
}

/** The CPUs this process may run on, from /proc (Linux); empty when unknown. */
export function allowedCpus(): number[] {
  try {
    const line = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '';
    return line.split(',').flatMap((part) => {
      const [a, b] = part.split('-').map(Number);
      if (a === undefined || Number.isNaN(a)) return [];
      const end = b ?? a;
      return Array.from({ length: end - a + 1 }, (_, i) => a + i);
    });
  } catch {
    return [];
  }
}

/** Peak resident set (VmHWM) of a live process, in MiB. */
export function peakRssMb(pid: number): number {
  const kb = /VmHWM:\s*(\d+)\s*kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (kb === undefined) throw new Error(`no VmHWM for process ${pid}`);
  return Number(kb) / 1024;
}

/** Current resident set (VmRSS) of a process, in MiB; null when it is gone or /proc is missing. */
export function rssMb(pid: number): number | null {
  try {
    const kb = /VmRSS:\s*(\d+)\s*kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? null : Number(kb) / 1024;
  } catch {
    return null;
  }
}

/** CPU seconds (user + system, all threads) a live process has used. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export interface SpawnOptions {
  /** CPUs to pin the child to with taskset; null leaves it unpinned. */
  cpus: number[] | null;
  env?: Record<string, string>;
  /** Give up when the child has printed nothing useful for this long. */
  timeoutMs: number;
}

/** Runs `node --import tsx ...args` from the repository root, killed by {@link killChildren}. */
export function launch(args: string[], options: SpawnOptions): ChildProcess {
  // e.g. BENCH_CHILD_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the servers, not the load.
  const extra = process.env.BENCH_CHILD_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const node = [process.execPath, ...extra, '--import', 'tsx', ...args];
  const [cmd, ...argv] = options.cpus ? ['taskset', '-c', options.cpus.join(','), ...node] : node;
  const child = spawn(cmd!, argv, {
    cwd: ROOT,
    env: {
      ...process.env,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** Resolves with the first stdout line that parses as JSON with `key`, or rejects with the output so far. */
function firstJsonLine<T>(child: ChildProcess, key: string, timeoutMs: number, what: string): Promise<T> {
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-8000);
  });
  return new Promise<T>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);
    const fail = (why: string) => {
      clearTimeout(timer);
      lines.close();
      reject(new Error(`${what} ${why}\n${stderr}`));
    };
    lines.on('line', (line) => {
      if (!line.startsWith('{')) return;
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        if (!(key in parsed)) return;
        clearTimeout(timer);
        resolve(parsed as T);
      } catch {
        // a log line that only looks like JSON
      }
    });
    child.once('exit', (code, signal) => fail(`exited (${signal ?? code}) before reporting`));
    child.once('error', (e) => fail(`could not start: ${e.message}`));
  });
}

export interface ServerChild {
  kind: string;
  pid: number;
  url: string;
  /** Sends a command over IPC and resolves with the child's reply. */
  ask<T>(command: string): Promise<T>;
  stop(): Promise<void>;
}

/** Starts `bench/server.ts <kind> 0 ...args` and waits for its ready line. */
export async function startServer(kind: string, args: string[], options: SpawnOptions): Promise<ServerChild> {
  const child = launch([join(BENCH_DIR, 'server.ts'), kind, '0', ...args], options);
  const ready = await firstJsonLine<{ ready: true; port: number; pid: number }>(
    child,
    'ready',
    options.timeoutMs,
    `server "${kind}"`,
  );
  let seq = 0;
  const waiting = new Map<number, (reply: unknown) => void>();
  child.on('message', (m: { id: number; reply: unknown }) => {
    waiting.get(m.id)?.(m.reply);
    waiting.delete(m.id);
  });
  return {
    kind,
    pid: child.pid!,
    url: `http://127.0.0.1:${ready.port}`,
    ask<T>(command: string) {
      const id = ++seq;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`server "${kind}" did not answer "${command}"`)),
          60_000,
        );
        waiting.set(id, (reply) => {
          clearTimeout(timer);
          const r = reply as { error?: string };
          if (r && typeof r === 'object' && r.error) reject(new Error(`server "${kind}": ${r.error}`));
          else resolve(reply as T);
        });
        child.send({ id, command });
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Runs a bench script to completion and resolves with its result line (the JSON line holding
 * `result`); its peak RSS is measured by the script itself, since /proc forgets a dead process.
 */
export async function runScript<T>(script: string, args: string[], options: SpawnOptions): Promise<T> {
  const child = launch([join(BENCH_DIR, script), ...args], options);
  const progress = createInterface({ input: child.stderr! });
  progress.on('line', (line) => {
    if (line.startsWith('  ')) console.log(line);
  });
  const { result } = await firstJsonLine<{ result: T }>(child, 'result', options.timeoutMs, script);
  const [code] = (child.exitCode === null ? await once(child, 'exit') : [child.exitCode]) as [number | null];
  if (code !== 0) throw new Error(`${script} exited with ${code}`);
  return result;
}
