/**
 * Child Node processes for tests and benchmarks: TypeScript through tsx, optionally pinned to CPUs with
 * taskset, every one registered so {@link killChildren} can end them all when the parent stops.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { ROOT } from './root.ts';

const live = new Set<ChildProcess>();

/** Kills every child still running; called on exit, on signals and on errors. */
export function killChildren(): void {
  for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  live.clear();
}

export interface LaunchOptions {
  /** CPUs to pin the child to with taskset; null or absent leaves it unpinned. */
  cpus?: number[] | null;
  /** Environment over this process's own. */
  env?: Record<string, string>;
  /** An IPC channel to the child (process.send in the child). */
  ipc?: boolean;
  /** Load tsx (default); false for a script that registers it itself, like bin/ducto.mjs. */
  tsx?: boolean;
}

/** Runs `node --import tsx ...args` (or `node ...args`) from the repository root, killed by {@link killChildren}. */
export function launch(args: string[], options: LaunchOptions = {}): ChildProcess {
  // e.g. BENCH_CHILD_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the servers, not the load.
  const extra = process.env.BENCH_CHILD_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const node = [process.execPath, ...extra, ...(options.tsx === false ? [] : ['--import', 'tsx']), ...args];
  const [cmd, ...argv] = options.cpus ? ['taskset', '-c', options.cpus.join(','), ...node] : node;
  const child = spawn(cmd!, argv, {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}
