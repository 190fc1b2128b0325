import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DuctoError } from '../core/errors.ts';
import { problem } from './problem.ts';
import type { Handler, HttpRequest, HttpResponse } from './types.ts';

export interface ServeOptions {
  host: string;
  port: number;
  /** Largest request body read; a larger one is answered 413 without reading the rest. */
  maxBodyBytes: number;
  /** Called for faults the handler did not turn into a response (they are answered 500). */
  onError?: (error: unknown, req: HttpRequest) => void;
}

export interface RunningServer {
  server: Server;
  url: string;
  port: number;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit)
    return Promise.reject(new DuctoError('payload_too_large', `the body exceeds ${limit} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new DuctoError('payload_too_large', `the body exceeds ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () =>
      resolve(size === 0 ? null : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)),
    );
    req.on('error', reject);
  });
}

async function send(res: ServerResponse, response: HttpResponse): Promise<void> {
  const { body, headers } = response;
  if (body === null || typeof body === 'string' || Buffer.isBuffer(body)) {
    // A cached response carries its Content-Length (its headers are shared and frozen).
    if (body !== null && headers['content-length'] === undefined)
      headers['content-length'] = String(Buffer.byteLength(body));
    res.writeHead(response.status, headers);
    res.end(body);
    return;
  }
  res.writeHead(response.status, headers);
  try {
    for await (const chunk of body) {
      if (res.destroyed) break;
      // Honour backpressure: a slow client holds the query's cursor, not the server's memory.
      if (!res.write(chunk)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
    }
  } finally {
    res.end();
  }
}

/** One request, from the socket to the handler and back. */
async function respond(
  req: IncomingMessage,
  res: ServerResponse,
  handler: Handler,
  options: ServeOptions,
  state: { closing: boolean },
): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const request: HttpRequest = {
    method: req.method ?? 'GET',
    path: q === -1 ? url : url.slice(0, q),
    query: q === -1 ? '' : url.slice(q + 1),
    headers: req.headers,
    body: null,
  };
  let response: HttpResponse;
  try {
    if (request.method !== 'GET' && request.method !== 'HEAD')
      request.body = await readBody(req, options.maxBodyBytes);
    response = await handler(request);
  } catch (error) {
    if (!(error instanceof DuctoError)) options.onError?.(error, request);
    response = problem(error);
    if (error instanceof DuctoError && error.code === 'payload_too_large')
      response.headers.connection = 'close';
  }
  // While closing, every response ends its connection: keep-alive clients move elsewhere
  // instead of holding the server open with a stream of new requests.
  if (state.closing) response = { ...response, headers: { ...response.headers, connection: 'close' } };
  if (
    request.method === 'HEAD' &&
    response.body !== null &&
    typeof response.body === 'object' &&
    !Buffer.isBuffer(response.body)
  ) {
    response = { ...response, body: null };
  }
  await send(res, response);
}

/** Serves a handler on node:http: the fastest host measured here (see docs/performance.md). */
export async function serve(handler: Handler, options: ServeOptions): Promise<RunningServer> {
  const state = { closing: false };
  const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 120_000 }, (req, res) => {
    respond(req, res, handler, options, state).catch((error) => {
      options.onError?.(error, {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        query: '',
        headers: req.headers,
        body: null,
      });
      res.destroy();
    });
  });
  server.listen(options.port, options.host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    server,
    port,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        state.closing = true;
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
