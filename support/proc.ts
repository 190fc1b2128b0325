/**
 * What tests and benchmarks both need from the machine: a free loopback port, and a process's memory
 * and CPU read from /proc (Linux).
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** A free loopback port (asked of the OS, then released). */
export async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
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
