/** The workload's HTTP client: loopback only, bounded, with statuses kept as they came. */
import http from 'node:http';
import { REQUEST_TIMEOUT_MS } from './constants.ts';

// ---------------------------------------------------------------------------------------------
// HTTP

export interface Reply {
  status: number;
  contentType: string;
  body: Buffer;
}

/** A request failure that is not a response: its error key. */
export class RequestError extends Error {
  constructor(readonly key: string) {
    super(key);
  }
}

/** An operation whose answer was wrong: its error key. */
export class OpError extends Error {
  constructor(readonly key: string) {
    super(key);
  }
}

export function request(
  agent: http.Agent,
  url: URL,
  method: 'GET' | 'POST',
  headers: Record<string, string>,
  body?: string,
): Promise<Reply> {
  return new Promise<Reply>((resolvePromise, reject) => {
    const req = http.request(
      url,
      {
        method,
        agent,
        headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) },
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolvePromise({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            body: Buffer.concat(chunks),
          }),
        );
        res.on('error', (e: NodeJS.ErrnoException) =>
          reject(new RequestError(`transport ${e.code ?? e.message}`)),
        );
      },
    );
    req.on('timeout', () => req.destroy(new RequestError('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) =>
      reject(e instanceof RequestError ? e : new RequestError(`transport ${e.code ?? e.message}`)),
    );
    req.end(body);
  });
}

/** `<status> <code>` of a non-2xx answer, the code read from its problem+json body. */
export function statusKey(reply: Reply): string {
  let code = '';
  if (reply.contentType.includes('json')) {
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
  if (!reply.contentType.includes('json')) return undefined;
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
