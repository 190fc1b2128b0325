import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { delimiter, dirname, join } from 'node:path';
import type { ClientConfig } from '@google-cloud/pubsub';

const LAUNCHER = join(
  'platform',
  'pubsub-emulator',
  'bin',
  process.platform === 'win32' ? 'cloud-pubsub-emulator.bat' : 'cloud-pubsub-emulator',
);

export interface EmulatorOptions {
  host: string;
  port: number;
  /** Written to `env.yaml` as PUBSUB_PROJECT_ID; the emulator itself accepts every project. */
  project: string;
  /**
   * The emulator keeps its state in memory only; like `gcloud beta emulators pubsub start
   * --data-dir`, this directory receives an `env.yaml` that `gcloud beta emulators pubsub env-init
   * --data-dir=DIR` turns into the environment a client needs.
   */
  dataDir?: string;
  /** Receives each line the emulator prints (it is chatty: several lines per request). */
  log?: (line: string) => void;
  /** How long to wait for the emulator to answer; the JVM usually needs 2–5 s. */
  startTimeoutMs?: number;
  /** Defaults to {@link findEmulatorLauncher}. */
  launcher?: string;
}

export interface RunningEmulator {
  /** `host:port`, the value of PUBSUB_EMULATOR_HOST for clients. */
  host: string;
  /** Ends the emulator and resolves once it is gone (SIGKILL after 5 s); safe to call twice. */
  stop(): Promise<void>;
}

function which(command: string, pathVar: string): string | null {
  for (const dir of pathVar.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, command);
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

/**
 * Locates the emulator that `gcloud components install pubsub-emulator` (or the Debian package
 * google-cloud-cli-pubsub-emulator) installs, without starting gcloud when the symlink from PATH
 * already leads to the SDK: `gcloud info` costs a Python start-up of about a second.
 */
export function findEmulatorLauncher(pathVar: string = process.env.PATH ?? ''): string | null {
  const gcloud = which('gcloud', pathVar);
  if (gcloud === null) return null;
  // <sdk>/bin/gcloud, usually reached through a symlink such as /usr/bin/gcloud.
  const direct = join(dirname(dirname(realpathSync(gcloud))), LAUNCHER);
  if (existsSync(direct)) return direct;
  try {
    const root = execFileSync(gcloud, ['info', '--format=value(installation.sdk_root)'], {
      encoding: 'utf8',
      timeout: 15_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const viaInfo = join(root, LAUNCHER);
    return root !== '' && existsSync(viaInfo) ? viaInfo : null;
  } catch {
    return null;
  }
}

function baseUrl(hostPort: string): string {
  return /^https?:\/\//.test(hostPort) ? hostPort.replace(/\/+$/, '') : `http://${hostPort}`;
}

/** True when a Pub/Sub emulator answers at `host:port` (its root path answers `Ok`). */
export async function isEmulatorUp(hostPort: string, timeoutMs = 1_000): Promise<boolean> {
  try {
    const res = await fetch(`${baseUrl(hostPort)}/`, { signal: AbortSignal.timeout(timeoutMs) });
    return res.ok && (await res.text()).trim() === 'Ok';
  } catch {
    return false;
  }
}

/**
 * Options for a `PubSub` client talking to an emulator. Besides the endpoint, `universeDomain`
 * stops google-auth from probing the GCE metadata server (a MetadataLookupWarning on every
 * machine off Google Cloud), and `emulatorMode` keeps plaintext gRPC despite that domain.
 */
export function emulatorClientConfig(hostPort: string, projectId: string): ClientConfig {
  return {
    apiEndpoint: hostPort.replace(/^https?:\/\//, ''),
    projectId,
    emulatorMode: true,
    universeDomain: 'googleapis.com',
  };
}

function portInUse(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: host.replace(/^\[|\]$/g, ''), port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/*
 * Runs the launcher under a watchdog: the emulator is a JVM in its own process group (so a stuck
 * stop can SIGKILL all of it), and a sibling waits for EOF on the watchdog's stdin, a pipe only this
 * process writes to. The kernel closes that pipe however this process ends, SIGKILL included, and
 * the sibling then kills the JVM: no orphan emulator holds the port for the next run. (A
 * non-interactive shell gives background jobs /dev/null as stdin, hence the copy to fd 3.)
 */
const WATCHDOG = [
  'exec 3<&0',
  '"$0" "$@" </dev/null & java=$!',
  '{ cat <&3 >/dev/null; kill $java 2>/dev/null; } &',
  // The shell outlives the JVM and reaps it: an orphaned JVM would end as a zombie where PID 1
  // reaps nothing (containers).
  "trap 'kill $java 2>/dev/null' TERM INT",
  'wait $java; wait $java',
].join('\n');

/** Starts the installed emulator as a child process and resolves once it answers. */
export async function startEmulator(options: EmulatorOptions): Promise<RunningEmulator> {
  const launcher = options.launcher ?? findEmulatorLauncher();
  if (launcher === null) {
    throw new Error(
      'the gcloud Pub/Sub emulator is not installed (gcloud components install pubsub-emulator)',
    );
  }
  const host =
    options.host.includes(':') && !options.host.startsWith('[') ? `[${options.host}]` : options.host;
  const hostPort = `${host}:${options.port}`;
  // Otherwise the poll below could mistake whatever listens there for our emulator.
  if (await portInUse(options.host, options.port)) {
    throw new Error(`cannot start the Pub/Sub emulator: ${hostPort} is already in use`);
  }

  const args = [`--host=${host}`, `--port=${options.port}`];
  const child =
    process.platform === 'win32'
      ? spawn(launcher, args, { shell: true, stdio: ['pipe', 'pipe', 'pipe'] })
      : spawn('/bin/sh', ['-c', WATCHDOG, launcher, ...args], {
          detached: true,
          stdio: ['pipe', 'pipe', 'pipe'],
        });
  const tail: string[] = [];
  const onOutput = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split(/\r?\n/)) {
      if (line === '') continue;
      options.log?.(line);
      tail.push(line);
      if (tail.length > 20) tail.shift();
    }
  };
  // Always drained: a full pipe would block the emulator.
  child.stdout?.on('data', onOutput);
  child.stderr?.on('data', onOutput);

  let exited: { code: number | null; signal: string | null } | null = null;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      // Lets the watchdog's sibling (still reading the pipe) end too.
      child.stdin?.destroy();
      resolve();
    });
    child.once('error', (error) => {
      tail.push(String(error));
      exited = { code: null, signal: null };
      resolve();
    });
  });
  let stopped: Promise<void> | null = null;
  const stop = () => {
    stopped ??= (async () => {
      if (exited === null) {
        // Closing the pipe is the watchdog's signal; SIGTERM to the shell does the same.
        child.stdin?.destroy();
        // The whole group: a stop that lands before the shell has set its trap (a start deadline
        // of a few ms) must still reach the JVM.
        killGroup(child, 'SIGTERM');
        const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 5_000);
        await exit;
        clearTimeout(timer);
        // Whatever of the group outlived the shell (the JVM ends just after it) goes now.
        killGroup(child, 'SIGKILL');
      }
    })();
    return stopped;
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  for (;;) {
    if (exited !== null) {
      await stop();
      throw new Error(`the Pub/Sub emulator exited before answering on ${hostPort}:\n${tail.join('\n')}`);
    }
    if (await isEmulatorUp(hostPort, 500)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `the Pub/Sub emulator did not answer on ${hostPort} within ${options.startTimeoutMs ?? 60_000} ms:\n${tail.join('\n')}`,
      );
    }
    await sleep(100);
  }

  if (options.dataDir !== undefined) {
    mkdirSync(options.dataDir, { recursive: true });
    writeFileSync(
      join(options.dataDir, 'env.yaml'),
      `PUBSUB_EMULATOR_HOST: ${hostPort}\nPUBSUB_PROJECT_ID: ${options.project}\n`,
    );
  }
  return { host: hostPort, stop };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    if (process.platform === 'win32') child.kill(signal);
    else process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}
