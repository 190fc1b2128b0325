/**
 * The benchmark's own children: bench/server.ts subjects answering commands over IPC, and scripts run
 * to completion for their result line. Processes come from support/spawn.ts, so `killChildren` ends them.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { launch } from '../support/spawn.ts';

export const BENCH_DIR = import.meta.dirname;

export interface SpawnOptions {
  /** CPUs to pin the child to with taskset; null leaves it unpinned. */
  cpus: number[] | null;
  env?: Record<string, string>;
  /** Give up when the child has printed nothing useful for this long. */
  timeoutMs: number;
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
  const child = launch([join(BENCH_DIR, 'server.ts'), kind, '0', ...args], { ...options, ipc: true });
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
