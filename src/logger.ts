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
 * JSON lines in Cloud Logging's structured format: `severity` and `message` are what Cloud Logging
 * reads, so the same logs are parsed there and readable locally.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      messageKey: 'message',
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ severity: SEVERITY[label] ?? 'DEFAULT' }) },
    },
    destination,
  );
}

/** `logging.googleapis.com/trace` from an incoming X-Cloud-Trace-Context or traceparent header. */
export function traceField(
  project: string,
  headers: Record<string, string | string[] | undefined>,
): Record<string, string> {
  const tp = headers.traceparent;
  const cloud = headers['x-cloud-trace-context'];
  let trace: string | undefined;
  if (typeof tp === 'string') trace = /^[\da-f]{2}-([\da-f]{32})-/.exec(tp)?.[1];
  if (!trace && typeof cloud === 'string') trace = /^([\da-f]{32})/.exec(cloud)?.[1];
  return trace ? { 'logging.googleapis.com/trace': `projects/${project}/traces/${trace}` } : {};
}
