/**
 * One role of the container: `api` or `ingest` on $HOST:$PORT with the fast node:http host, against
 * the configured warehouse (BigQuery in the cloud). The same handlers as `ducto serve` and as the
 * Cloud Run functions. Resolves to the function that stops it.
 */
import { readConfig } from './config.ts';
import { PUSH_BODY_LIMIT_BYTES } from './core/delivery.ts';
import { DuctoError } from './core/errors.ts';
import { serve } from './http/node-server.ts';
import { buildRuntime } from './runtime.ts';

export async function runRole(
  argv: string[],
  env: Record<string, string | undefined>,
): Promise<() => Promise<void>> {
  const role = argv[0] ?? 'api';
  if (role !== 'api' && role !== 'ingest')
    throw new DuctoError('config_invalid', `expected "api" or "ingest", got "${role}"`);
  const { config, app, logger, schemas, warehouse, close } = await buildRuntime(readConfig(env));
  const server = await serve(role === 'api' ? app.apiHandler : app.ingestHandler, {
    host: config.host,
    port: config.port,
    maxBodyBytes: role === 'api' ? 0 : PUSH_BODY_LIMIT_BYTES,
    onError: (err) => logger.error({ code: 'internal', err }, 'request failed'),
  });
  logger.info({ role, url: server.url, warehouse: warehouse.kind, datasets: [...schemas.keys()] }, 'serving');
  return async () => {
    await server.close();
    await close();
  };
}
