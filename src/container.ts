/**
 * One role of the container: `api` or `ingest` on $HOST:$PORT with the fast node:http host, against
 * the configured warehouse (BigQuery in the cloud). The same handlers as `ducto serve` and as the
 * Cloud Run functions. Resolves to the function that stops it.
 */
import { createApp } from './app.ts';
import { readConfig } from './config.ts';
import { PUSH_BODY_LIMIT_BYTES } from './core/delivery.ts';
import { DuctoError } from './core/errors.ts';
import { loadSchemas, selectSchemas } from './core/schema-files.ts';
import { serve } from './http/node-server.ts';
import { createLogger } from './logger.ts';
import { createWarehouse } from './warehouse-factory.ts';

export async function runRole(
  argv: string[],
  env: Record<string, string | undefined>,
): Promise<() => Promise<void>> {
  const role = argv[0] ?? 'api';
  if (role !== 'api' && role !== 'ingest')
    throw new DuctoError('config_invalid', `expected "api" or "ingest", got "${role}"`);
  const config = readConfig(env);
  const logger = createLogger(config.logLevel);
  const schemas = selectSchemas(loadSchemas(config.schemasDir), config.datasets);
  const warehouse = await createWarehouse(config);
  await warehouse.ensure([...schemas.values()]);
  const app = createApp(config, { warehouse, schemas, logger });
  const server = await serve(role === 'api' ? app.apiHandler : app.ingestHandler, {
    host: config.host,
    port: config.port,
    maxBodyBytes: role === 'api' ? 0 : PUSH_BODY_LIMIT_BYTES,
    onError: (err) => logger.error({ code: 'internal', err }, 'request failed'),
  });
  logger.info({ role, url: server.url, warehouse: warehouse.kind, datasets: [...schemas.keys()] }, 'serving');
  return async () => {
    await server.close();
    await app.close();
    await warehouse.close();
  };
}
