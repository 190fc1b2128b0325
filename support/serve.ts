/**
 * `ducto serve` as a child process, the way a user runs it (bin/ducto.mjs), on free loopback ports: the
 * one spawner the integration tests, the benchmarks and the load generator share. Ready when the banner
 * ("ducto is running") is printed, which comes after the API, the ingest endpoint and any emulator
 * topology are up.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from './proc.ts';
import { ROOT } from './root.ts';
import { launch } from './spawn.ts';

export interface StartServeOptions {
  /** Flags after `serve`; `--port` and `--ingest-port` are chosen here. */
  args?: string[];
  /** Environment over this process's own (LOG_LEVEL defaults to warn). */
  env?: Record<string, string>;
  /** CPUs to pin the server (and the emulator it starts) to. */
  cpus?: number[] | null;
  /** How long to wait for the banner; 120 s by default (a cold emulator start takes ~10 s). */
  readyTimeoutMs?: number;
}

export interface ServeProcess {
  child: ChildProcess;
  apiUrl: string;
  ingestUrl: string;
  /** The last 16 KB of stdout and stderr. */
  output(): string;
  /** Why the process is gone, or null while it runs or after {@link stop}. */
  died(): string | null;
  /** Signals it (SIGTERM by default, SIGKILL after `killAfterMs`) and resolves with its exit code. */
  stop(signal?: NodeJS.Signals, killAfterMs?: number): Promise<number | null>;
}

const KEEP = 16_384;

export async function startServe(options: StartServeOptions = {}): Promise<ServeProcess> {
  const port = await freePort();
  let ingestPort = await freePort();
  while (ingestPort === port) ingestPort = await freePort();
  const child = launch(
    [
      join(ROOT, 'bin/ducto.mjs'),
      'serve',
      `--port=${port}`,
      `--ingest-port=${ingestPort}`,
      ...(options.args ?? []),
    ],
    { cpus: options.cpus, tsx: false, env: { LOG_LEVEL: 'warn', ...options.env } },
  );
  let out = '';
  const keep = (c: Buffer | string) => {
    out = (out + c.toString()).slice(-KEEP);
  };
  child.stdout!.on('data', keep);
  let stopping = false;
  let died: string | null = null;
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  void exited.then(([code, signal]) => {
    if (!stopping) died = `ducto serve exited (${signal ?? code})\n${out}`;
  });
  const timeoutMs = options.readyTimeoutMs ?? 120_000;
  await new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.stderr! });
    let ready = false;
    const timer = setTimeout(() => fail(`did not start within ${timeoutMs / 1000} s`), timeoutMs);
    const fail = (why: string) => {
      if (ready) return;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`ducto serve ${why}:\n${out}`));
    };
    lines.on('line', (line) => {
      keep(`${line}\n`);
      if (!ready && line.startsWith('ducto is running')) {
        ready = true;
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then(([code, signal]) => fail(`exited at start (${signal ?? code})`));
  });
  return {
    child,
    apiUrl: `http://127.0.0.1:${port}`,
    ingestUrl: `http://127.0.0.1:${ingestPort}`,
    output: () => out,
    died: () => died,
    async stop(signal = 'SIGTERM', killAfterMs = 30_000) {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      const [code] = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
