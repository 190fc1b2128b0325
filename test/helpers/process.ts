import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { freePort } from '../../support/proc.ts';
import { ROOT } from './schemas.ts';

export { freePort };

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export interface ServeProcess {
  child: ChildProcess;
  apiUrl: string;
  ingestUrl: string;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs `ducto serve` as a child process, as a user would, and waits until its API answers. */
export async function startServe(args: string[], env: Record<string, string> = {}): Promise<ServeProcess> {
  const port = await freePort();
  const ingestPort = await freePort();
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'bin/ducto.mjs'),
      'serve',
      '--port',
      String(port),
      '--ingest-port',
      String(ingestPort),
      ...args,
    ],
    {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  const exited = once(child, 'exit');
  const apiUrl = `http://127.0.0.1:${port}`;
  await Promise.race([
    waitFor(async () => (await fetch(`${apiUrl}/healthz`)).ok, 60_000, `ducto serve on ${apiUrl}`),
    exited.then(() => {
      throw new Error(`ducto serve exited early:\n${out}`);
    }),
  ]);
  return {
    child,
    apiUrl,
    ingestUrl: `http://127.0.0.1:${ingestPort}`,
    output: () => out,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      const [code] = await exited;
      return code as number | null;
    },
  };
}
