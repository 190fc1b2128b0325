import { type Logger, pino } from 'pino';

export type { Logger };

const SEVERITY: Record<string, string> = {
  trace: 'DEBUG',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
};

/**
 * The `time` field, formatted once per millisecond: at thousands of lines a second most lines share
 * their millisecond with the one before.
 */
let lastMs = -1;
let lastTime = '';
function isoTime(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastTime = `,"time":"${new Date(ms).toISOString()}"`;
  }
  return lastTime;
}

/** How long a buffered log line may wait before it is written, at the most. */
const LOG_FLUSH_MS = 200;

/**
 * A log destination written in chunks of up to 4 KiB rather than a system call per line (one line
 * per API request made the write the largest cost of a cached GET): flushed every
 * {@link LOG_FLUSH_MS} ms, and synchronously when the process exits, so a line waits 200 ms at the
 * most and a shutdown loses none. A process killed outright loses what it had not flushed: log
 * lines, never data.
 */
export function bufferedDestination(
  dest: number | string = 1,
): pino.DestinationStream & { flushSync(): void } {
  const stream = pino.destination({ dest, sync: false, minLength: 4096, mkdir: typeof dest === 'string' });
  setInterval(() => stream.flush(), LOG_FLUSH_MS).unref();
  process.once('exit', () => {
    try {
      stream.flushSync();
    } catch {
      // A write still in flight at exit: the line it holds is the only one lost.
    }
  });
  return stream;
}

/**
 * JSON lines in Cloud Logging's structured format: `severity` and `message` are what Cloud Logging
 * reads, so the same logs are parsed there and readable locally. Written to stdout through a
 * {@link bufferedDestination} unless another destination is given.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      messageKey: 'message',
      base: undefined,
      timestamp: isoTime,
      formatters: { level: (label) => ({ severity: SEVERITY[label] ?? 'DEFAULT' }) },
    },
    // A silent logger writes nothing: no stdout buffer, flush timer or exit hook for it.
    destination ?? (level === 'silent' ? undefined : bufferedDestination(1)),
  );
}

/** The field Cloud Logging reads a log line's trace from. */
export const TRACE_FIELD = 'logging.googleapis.com/trace';

/** The trace (`projects/<p>/traces/<id>`) of an incoming X-Cloud-Trace-Context or traceparent header. */
export function traceOf(
  project: string,
  headers: Record<string, string | string[] | undefined>,
): string | undefined {
  const tp = headers.traceparent;
  const cloud = headers['x-cloud-trace-context'];
  let trace: string | undefined;
  if (typeof tp === 'string') trace = /^[\da-f]{2}-([\da-f]{32})-/.exec(tp)?.[1];
  if (!trace && typeof cloud === 'string') trace = /^([\da-f]{32})/.exec(cloud)?.[1];
  return trace ? `projects/${project}/traces/${trace}` : undefined;
}
