/**
 * The workload's view of HTTP answers: statuses kept as they came, problem+json codes as error keys, and
 * loopback-only targets. Requests go through support/http.ts with a bounded time.
 */
import type { Reply } from '../../support/http.ts';

export const contentTypeOf = (reply: Reply): string => String(reply.headers['content-type'] ?? '');

/** An operation whose answer was wrong: its error key. */
export class OpError extends Error {
  constructor(readonly key: string) {
    super(key);
  }
}

/** `<status> <code>` of a non-2xx answer, the code read from its problem+json body. */
export function statusKey(reply: Reply): string {
  let code = '';
  if (contentTypeOf(reply).includes('json')) {
    try {
      const parsed = JSON.parse(reply.body.toString('utf8')) as { code?: unknown };
      if (typeof parsed.code === 'string') code = ` ${parsed.code}`;
    } catch {
      // not JSON after all
    }
  }
  return `${reply.status}${code}`;
}

/** Throws unless the answer is `status`; returns its body parsed as JSON when it is JSON. */
export function expectStatus(reply: Reply, status = 200): unknown {
  if (reply.status !== status) throw new OpError(statusKey(reply));
  if (!contentTypeOf(reply).includes('json')) return undefined;
  try {
    return JSON.parse(reply.body.toString('utf8'));
  } catch {
    throw new OpError('mismatch invalid json');
  }
}

/** Target URLs must be loopback: the generator never loads anything but this machine. */
export function assertLoopback(raw: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`${what} "${raw}" is not a URL`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  if (url.protocol !== 'http:' || !loopback)
    throw new Error(
      `${what} ${raw} is not a loopback http:// URL: the load generator only targets 127.0.0.0/8, localhost or ::1`,
    );
  return url;
}
