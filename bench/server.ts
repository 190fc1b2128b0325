/**
 * The servers under test, one per child process so that the server has a core of its own and the
 * load generator the other: `node --import tsx bench/server.ts <kind> <port> [arg]`. Prints one
 * JSON line `{"ready": true, "port": …}` when listening; answers `stats` over IPC; stops on SIGTERM.
 *
 *   ingest <db>        ducto's ingest handler on node:http over a DuckDB file
 *   peer <db>          node:http, one parameterised INSERT per message (autocommit)
 *   limit              node:http that parses the envelope and the data, writes nothing, answers 204
 *   api <db>           ducto's API handler on node:http over a loaded DuckDB file
 *   api-static <file>  node:http answering the bytes and headers saved in <file>
 *   api-peer <db>      functions-framework http function querying DuckDB on every GET, no cache
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  BIGINT,
  type DuckDBConnection,
  type DuckDBInstance,
  DuckDBTimestampValue,
  TIMESTAMP,
  VARCHAR,
} from '@duckdb/node-api';
import { openDuckDB } from '../src/adapters/duckdb/open.ts';
import { duckdbSettings, readConfig } from '../src/config.ts';
import { duckdbDdl } from '../src/core/derive/duckdb-ddl.ts';
import { loadSchemas } from '../src/core/schema-files.ts';
import { serve } from '../src/http/node-server.ts';
import type { Handler } from '../src/http/types.ts';
import { bufferedDestination, createLogger } from '../src/logger.ts';
import { buildRuntime } from '../src/runtime.ts';

type Stats = Record<string, number>;
interface Running {
  port: number;
  stats(): Promise<Stats>;
  close(): Promise<void>;
}

const [kind = '', portArg = '0', arg = ''] = process.argv.slice(2);
const port = Number(portArg);
// The bench passes its environment through, so DUCTO_BATCH_MAX_ROWS etc. can be tried from the shell.
// Info logging, as users run it: one line per request and per batch, written to a file (the bench
// passes BENCH_LOG_FILE) so that no reader of a pipe competes for the two cores.
const config = readConfig({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' });
const logger = () =>
  createLogger(
    config.logLevel,
    process.env.BENCH_LOG_FILE ? bufferedDestination(process.env.BENCH_LOG_FILE) : undefined,
  );
const flights = () => loadSchemas(config.schemasDir).get('flights')!;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function listen(server: Server): Promise<number> {
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });

/**
 * Resolves once `idle()` has held for 50 ms: requests whose bodies arrived just before the load
 * generator hung up are still handled, and counted, before the rows are.
 */
async function settled(idle: () => boolean): Promise<void> {
  let since = performance.now();
  while (performance.now() - since < 50) {
    await new Promise((r) => setTimeout(r, 5));
    if (!idle()) since = performance.now();
  }
}

interface Envelope {
  message: { data: string; attributes?: Record<string, string>; messageId: string; publishTime?: string };
}
type Flight = { date: string; delay: number; distance: number; origin: string; destination: string };

/** What every push endpoint must do at least: read the body, parse the envelope, decode and parse the data. */
function parsePush(body: Buffer): { envelope: Envelope; record: Flight } {
  const envelope = JSON.parse(body.toString('utf8')) as Envelope;
  const record = JSON.parse(Buffer.from(envelope.message.data, 'base64').toString('utf8')) as Flight;
  return { envelope, record };
}

async function ingest(db: string): Promise<Running> {
  const runtime = await buildRuntime(
    { ...config, warehouse: { kind: 'duckdb', path: db, ...duckdbSettings(process.env) } },
    { logger: logger() },
  );
  const { app, schemas, warehouse } = runtime;
  let acks = 0;
  let handling = 0;
  const handler: Handler = async (req) => {
    handling++;
    try {
      const response = await app.ingestHandler(req);
      if (response.status < 300) acks++;
      return response;
    } finally {
      handling--;
    }
  };
  // The options `ducto serve` uses for its ingest server.
  const server = await serve(handler, {
    host: '127.0.0.1',
    port,
    maxBodyBytes: Math.ceil(config.maxMessageBytes * 1.4) + 64 * 1024,
  });
  return {
    port: server.port,
    async stats() {
      await settled(() => handling === 0 && app.batcher.depth === 0);
      return { acks, rows: await warehouse.count(schemas.get('flights')!) };
    },
    async close() {
      await server.close();
      await runtime.close();
    },
  };
}

async function peer(db: string): Promise<Running> {
  const schema = flights();
  const { instance } = await openDuckDB(db, duckdbSettings(process.env));
  const conn = await instance.connect();
  // The same table as ducto's, primary key included.
  await conn.run(duckdbDdl(schema).events);
  const insert = await conn.prepare(
    'INSERT INTO flights (date, delay, distance, origin, destination, event_id, publish_time, ingested_at) ' +
      "VALUES (strptime($1, '%Y/%m/%d %H:%M'), $2, $3, $4, $5, $6, $7, $8)",
  );
  const types = [VARCHAR, BIGINT, BIGINT, VARCHAR, VARCHAR, VARCHAR, TIMESTAMP, TIMESTAMP];
  const micros = (ms: number) => new DuckDBTimestampValue(BigInt(ms) * 1000n);
  // One statement object and one connection: bind-and-run must not interleave between requests.
  let tail: Promise<unknown> = Promise.resolve();
  let acks = 0;
  let handling = 0;
  const server = createServer((req, res) => {
    handling++;
    readBody(req)
      .then((body) => {
        const { envelope, record: r } = parsePush(body);
        const m = envelope.message;
        const run = tail.then(async () => {
          insert.bind(
            [
              r.date,
              BigInt(r.delay),
              BigInt(r.distance),
              r.origin,
              r.destination,
              m.attributes?.event_id ?? m.messageId,
              micros(m.publishTime ? Date.parse(m.publishTime) : Date.now()),
              micros(Date.now()),
            ],
            types,
          );
          await insert.run();
        });
        tail = run.catch(() => undefined);
        return run;
      })
      .then(() => {
        acks++;
        res.writeHead(204).end();
      })
      .catch((e: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(String(e));
      })
      .finally(() => handling--);
  });
  return {
    port: await listen(server),
    async stats() {
      await settled(() => handling === 0);
      await tail;
      const reader = await conn.runAndReadAll('SELECT count(*) FROM flights');
      return { acks, rows: Number(reader.getRows()[0]![0]) };
    },
    async close() {
      await closeServer(server);
      await tail;
      insert.destroySync();
      conn.closeSync();
      instance.closeSync();
    },
  };
}

async function limit(): Promise<Running> {
  let acks = 0;
  const server = createServer((req, res) => {
    readBody(req)
      .then((body) => {
        parsePush(body);
        acks++;
        res.writeHead(204).end();
      })
      .catch((e: unknown) => res.writeHead(400, { 'content-type': 'text/plain' }).end(String(e)));
  });
  return {
    port: await listen(server),
    stats: async () => ({ acks }),
    close: () => closeServer(server),
  };
}

async function api(db: string): Promise<Running> {
  const runtime = await buildRuntime(
    { ...config, warehouse: { kind: 'duckdb', path: db, ...duckdbSettings(process.env) } },
    { logger: logger() },
  );
  const { app, schemas, warehouse } = runtime;
  // The options `ducto serve` uses for its API server.
  const server = await serve(app.apiHandler, { host: '127.0.0.1', port, maxBodyBytes: 0 });
  return {
    port: server.port,
    stats: async () => ({ rows: await warehouse.count(schemas.get('flights')!) }),
    async close() {
      await server.close();
      await runtime.close();
    },
  };
}

async function apiStatic(file: string): Promise<Running> {
  const saved = JSON.parse(readFileSync(file, 'utf8')) as {
    status: number;
    headers: Record<string, string>;
    body: string;
  };
  const body = Buffer.from(saved.body, 'base64');
  const server = createServer((_req, res) => {
    res.writeHead(saved.status, saved.headers);
    res.end(body);
  });
  return { port: await listen(server), stats: async () => ({}), close: () => closeServer(server) };
}

/** A small pool, as a careful peer would keep: one DuckDB connection runs one query at a time. */
async function connectionPool(instance: DuckDBInstance, size: number) {
  const idle: DuckDBConnection[] = [];
  for (let i = 0; i < size; i++) idle.push(await instance.connect());
  const waiting: Array<(c: DuckDBConnection) => void> = [];
  return {
    async use<T>(work: (c: DuckDBConnection) => Promise<T>): Promise<T> {
      const conn = idle.pop() ?? (await new Promise<DuckDBConnection>((r) => waiting.push(r)));
      try {
        return await work(conn);
      } finally {
        const next = waiting.shift();
        if (next) next(conn);
        else idle.push(conn);
      }
    },
    close: () => {
      for (const c of idle) c.closeSync();
    },
  };
}

async function apiPeer(db: string): Promise<Running> {
  // Imported here only: the framework loads node:domain, which slows every EventEmitter in the process.
  const ff = await import('@google-cloud/functions-framework');
  const { getTestServer } = await import('@google-cloud/functions-framework/testing');
  const { instance } = await openDuckDB(db, duckdbSettings(process.env));
  const pool = await connectionPool(instance, 4);
  ff.http('flights', async (_req, res) => {
    const reader = await pool.use((c) =>
      c.runAndReadAll('SELECT * FROM flights ORDER BY date, event_id LIMIT 100'),
    );
    res.json({ data: reader.getRowObjectsJson() });
  });
  const server = getTestServer('flights');
  return {
    port: await listen(server),
    stats: async () => ({}),
    async close() {
      await closeServer(server);
      pool.close();
      instance.closeSync();
    },
  };
}

const kinds: Record<string, () => Promise<Running>> = {
  ingest: () => ingest(arg),
  peer: () => peer(arg),
  limit,
  api: () => api(arg),
  'api-static': () => apiStatic(arg),
  'api-peer': () => apiPeer(arg),
};

const start = kinds[kind];
if (!start) {
  console.error(`usage: bench/server.ts <${Object.keys(kinds).join('|')}> <port> [arg]`);
  process.exit(2);
}
const running = await start();

let stopping = false;
const stop = async (code: number) => {
  if (stopping) return;
  stopping = true;
  await running.close().catch((e: unknown) => console.error(e));
  process.exit(code);
};
process.on('SIGTERM', () => void stop(0));
process.on('SIGINT', () => void stop(0));
// The parent died: nobody will stop this server.
process.on('disconnect', () => void stop(1));
process.on('message', (m: { id: number; command: string }) => {
  const reply = (r: unknown) => process.send?.({ id: m.id, reply: r });
  if (m.command !== 'stats') return reply({ error: `unknown command ${m.command}` });
  running.stats().then(reply, (e: unknown) => reply({ error: String(e) }));
});
console.log(JSON.stringify({ ready: true, kind, port: running.port, pid: process.pid }));
