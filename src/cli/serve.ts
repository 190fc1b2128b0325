import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { PubSub } from '@google-cloud/pubsub';
import type { App } from '../app.ts';
import { type Config, readConfig, type ServeFlags } from '../config.ts';
import type { DatasetSchema } from '../core/dataset-schema.ts';
import { PUSH_BODY_LIMIT_BYTES } from '../core/delivery.ts';
import { DuctoError } from '../core/errors.ts';
import type { Warehouse } from '../core/warehouse.ts';
import { createDashboardHandler } from '../dashboard/page.ts';
import { type RunningServer, serve as serveHttp } from '../http/node-server.ts';
import { createLogger, type Logger } from '../logger.ts';
import { publish } from '../publish/publish.ts';
import {
  emulatorClientConfig,
  findEmulatorLauncher,
  isEmulatorUp,
  startEmulator,
} from '../pubsub/emulator.ts';
import type { PullBridge } from '../pubsub/pull-bridge.ts';
import { ensureTopology } from '../pubsub/topology.ts';
import { buildRuntime } from '../runtime.ts';

export interface Stack {
  config: Config;
  apiUrl: string;
  ingestUrl: string;
  mode: 'emulator' | 'direct';
  /** How the emulator's messages reach ingest (`push` in direct mode: POSTed push envelopes). */
  delivery: 'push' | 'pull';
  /** The streaming-pull subscribers, in pull delivery mode. */
  pullBridge: PullBridge | null;
  emulatorHost: string | null;
  warehouse: Warehouse;
  app: App;
  /** Resolves when seeding has finished (immediately when there was nothing to seed). */
  seeded: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Where a schema's bundled sample file lives: the package's directory, found from its entry point
 * (its `exports` hide `package.json` and the data files from `require.resolve`).
 */
function samplePath(schema: DatasetSchema): string | null {
  if (!schema.sample) return null;
  let dir = dirname(createRequire(import.meta.url).resolve(schema.sample.package));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, schema.sample.file);
}

/** Starts the local stack (API, ingest endpoint, DuckDB, optionally the Pub/Sub emulator). */
export interface StackOptions {
  /** Wraps the warehouse the stack uses (tests inject failures and delays through it). */
  wrapWarehouse?: (warehouse: Warehouse) => Warehouse;
  /** Pub/Sub retry backoff of the emulator's push subscriptions (tests shorten it). */
  minBackoffSeconds?: number;
  /** Deliveries before a message goes to the dead-letter topic (tests that inject many failures raise it). */
  maxDeliveryAttempts?: number;
}

export async function startStack(config: Config, logger: Logger, options: StackOptions = {}): Promise<Stack> {
  if (config.warehouse.kind !== 'duckdb') {
    // The local stack is one process around one DuckDB file; BigQuery is served by the container
    // roles and the functions (which also take DUCTO_WAREHOUSE), never silently swapped for DuckDB.
    throw new DuctoError(
      'config_invalid',
      `ducto serve runs the local stack on DuckDB; DUCTO_WAREHOUSE=${config.warehouse.kind} is for the deployed services (node dist/entry/container.js api|ingest, or the functions)`,
    );
  }
  const runtime = await buildRuntime(config, {
    logger,
    ...(options.wrapWarehouse && { wrapWarehouse: options.wrapWarehouse }),
    // The live dashboard is a local-stack convenience; deployed functions do not serve it.
    extraRoutes: { '/dashboard': createDashboardHandler() },
  });
  const { app, schemas, warehouse } = runtime;
  const onError = (err: unknown) => logger.error({ code: 'internal', err }, 'request failed');
  const ingestServer = await serveHttp(app.ingestHandler, {
    host: config.host,
    port: config.local.ingestPort,
    maxBodyBytes: PUSH_BODY_LIMIT_BYTES,
    onError,
  });
  let apiServer: RunningServer | null = null;
  let stopEmulator: (() => Promise<void>) | null = null;
  let pubsub: PubSub | null = null;
  let pullBridge: PullBridge | null = null;
  try {
    apiServer = await serveHttp(app.apiHandler, {
      host: config.host,
      port: config.port,
      maxBodyBytes: 0,
      onError,
    });
    let mode: 'emulator' | 'direct' = 'direct';
    if (
      config.local.pubsub === 'emulator' ||
      (config.local.pubsub === 'auto' && (config.local.emulatorHostSet || findEmulatorLauncher() !== null))
    ) {
      mode = 'emulator';
      if (!(await isEmulatorUp(config.local.emulatorHost))) {
        const [host, port] = splitHostPort(config.local.emulatorHost);
        const emulator = await startEmulator({ host, port, project: config.project });
        stopEmulator = emulator.stop;
      }
      // The Pub/Sub client (and gRPC under it) is loaded only when a broker is used: direct mode never loads it.
      const { PubSub } = await import('@google-cloud/pubsub');
      pubsub = new PubSub(emulatorClientConfig(config.local.emulatorHost, config.project));
      await ensureTopology(pubsub, {
        datasets: [...schemas.keys()],
        pushEndpoint: (d) => `${ingestServer.url}/?dataset=${d}`,
        delivery: config.local.delivery,
        ...(options.minBackoffSeconds !== undefined && { minBackoffSeconds: options.minBackoffSeconds }),
        ...(options.maxDeliveryAttempts !== undefined && {
          maxDeliveryAttempts: options.maxDeliveryAttempts,
        }),
      });
      if (config.local.delivery === 'pull') {
        const { startPullBridge } = await import('../pubsub/pull-bridge.ts');
        pullBridge = startPullBridge({
          pubsub,
          datasets: [...schemas.keys()],
          ingest: app.ingest,
          logger,
          maxMessages: config.local.pullMaxMessages,
        });
      }
    } else if (config.local.delivery === 'pull') {
      throw new DuctoError(
        'config_invalid',
        '--delivery=pull needs the Pub/Sub emulator (--pubsub=emulator), which is not installed here',
      );
    }

    const seeded = config.local.seed
      ? seed(config, schemas, warehouse, logger, ingestServer.url)
      : Promise.resolve();
    let stopping: Promise<void> | null = null;
    const api = apiServer;
    return {
      config,
      apiUrl: api.url,
      ingestUrl: ingestServer.url,
      mode,
      delivery: mode === 'emulator' ? config.local.delivery : 'push',
      pullBridge,
      emulatorHost: mode === 'emulator' ? config.local.emulatorHost : null,
      warehouse,
      app,
      seeded,
      stop: () => {
        stopping ??= (async () => {
          // Order matters: stop taking messages, flush what was accepted, then close the rest.
          if (pullBridge) await pullBridge.stop();
          if (pubsub) await pubsub.close().catch(() => {});
          await ingestServer.close();
          await app.close();
          await api.close();
          await runtime.close();
          if (stopEmulator) await stopEmulator();
        })();
        return stopping;
      },
    };
  } catch (error) {
    await pullBridge?.stop();
    await pubsub?.close().catch(() => {});
    await apiServer?.close();
    await ingestServer.close();
    await runtime.close();
    if (stopEmulator) await stopEmulator();
    throw error;
  }
}

function splitHostPort(hostPort: string): [string, number] {
  const i = hostPort.lastIndexOf(':');
  return [hostPort.slice(0, i).replace(/^\[|\]$/g, ''), Number(hostPort.slice(i + 1))];
}

async function seed(
  config: Config,
  schemas: ReadonlyMap<string, DatasetSchema>,
  warehouse: Warehouse,
  logger: Logger,
  ingestUrl: string,
): Promise<void> {
  for (const schema of schemas.values()) {
    const file = samplePath(schema);
    if (!file || (await warehouse.count(schema)) > 0) continue;
    // Straight to the ingest endpoint even in emulator mode: the emulator pushes one message at a time
    // (tens per second), which would make a first start wait minutes for the sample.
    logger.info({ dataset: schema.name, file }, 'seeding the sample through the ingest endpoint');
    const summary = await publish({
      files: [file],
      dataset: schema.name,
      schemas,
      project: config.project,
      concurrency: 64,
      rate: 0,
      progress: false,
      endpoint: `${ingestUrl}/`,
    });
    logger.info({ dataset: schema.name, summary }, 'sample published');
  }
}

function banner(stack: Stack): string {
  const c = stack.config;
  const bus =
    stack.mode === 'emulator'
      ? `Pub/Sub emulator at ${stack.emulatorHost} (project ${c.project}); topics: ${[...stack.app.schemas.keys()].join(', ')}`
      : 'direct (no broker): `ducto publish` POSTs push envelopes to the ingest endpoint';
  const delivery =
    stack.mode === 'direct'
      ? null
      : stack.delivery === 'pull'
        ? `pull: streaming pull from ${[...stack.app.schemas.keys()].map((d) => `${d}-pull`).join(', ')} (up to ${c.local.pullMaxMessages} messages in hand each), same ingest path as push`
        : 'push: the emulator POSTs each message to the ingest endpoint (one at a time per subscription)';
  return [
    '',
    `ducto is running (pubsub mode: ${stack.mode}${stack.mode === 'emulator' ? `, delivery: ${stack.delivery}` : ''})`,
    `  API        ${stack.apiUrl}/v1/${c.defaultDataset}?limit=5`,
    `  stats      ${stack.apiUrl}/v1/${c.defaultDataset}/stats?group_by=origin`,
    `  OpenAPI    ${stack.apiUrl}/openapi.json    metrics ${stack.apiUrl}/metrics    ready ${stack.apiUrl}/readyz`,
    `  ingest     POST ${stack.ingestUrl}/ (Pub/Sub push envelope or CloudEvent)`,
    `  bus        ${bus}`,
    ...(delivery ? [`  delivery   ${delivery}`] : []),
    `  warehouse  DuckDB ${c.warehouse.kind === 'duckdb' ? c.warehouse.path : c.warehouse.kind}`,
    ...(c.faults ? [`  FAULTS     injected warehouse faults are ON: ${JSON.stringify(c.faults)}`] : []),
    '  Ctrl-C stops (flushes the writer first).',
    '',
  ].join('\n');
}

export async function serveCommand(env: Record<string, string | undefined>, flags: ServeFlags) {
  const config = readConfig(env, flags);
  const logger = createLogger(config.logLevel);
  const stack = await startStack(config, logger);
  process.stderr.write(banner(stack));
  stack.seeded.catch((err) => logger.error({ code: 'seed_failed', err }, 'seeding failed'));
  let signals = 0;
  const shutdown = (signal: string) => {
    if (++signals > 1) process.exit(130);
    logger.info({ signal }, 'shutting down: flushing the writer');
    stack.stop().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}
