/**
 * Entry points for Cloud Run functions (functions-framework): `ingest` (CloudEvent; a Pub/Sub push
 * envelope POSTed to it is converted by the framework) and `api` (HTTP). Both wrap the same handlers
 * that `ducto serve` runs on node:http.
 */

import type { Request, Response } from '@google-cloud/functions-framework';
import * as ff from '@google-cloud/functions-framework';
import { type App, createApp } from './app.ts';
import { readConfig } from './config.ts';
import { decodeDelivery } from './core/delivery.ts';
import { loadSchemas, selectSchemas } from './core/schema-files.ts';
import { recordOutcome, recordRetry } from './http/ingest-handler.ts';
import type { HttpRequest } from './http/types.ts';
import { createLogger } from './logger.ts';
import { createWarehouse } from './warehouse-factory.ts';

// One app per function instance, built on first use: the framework's model is one module per
// instance, so this is the single place where ducto keeps module state.
let app: Promise<App> | null = null;

function getApp(): Promise<App> {
  app ??= (async () => {
    const config = readConfig(process.env);
    const logger = createLogger(config.logLevel);
    const schemas = selectSchemas(loadSchemas(config.schemasDir), config.datasets);
    const warehouse = await createWarehouse(config);
    await warehouse.ensure([...schemas.values()]);
    return createApp(config, { warehouse, schemas, logger });
  })();
  app.catch(() => {
    app = null;
  });
  return app;
}

export async function ingestCloudEvent(event: ff.CloudEvent<unknown>): Promise<void> {
  const a = await getApp();
  const delivery = decodeDelivery({ specversion: event.specversion, source: event.source, data: event.data });
  try {
    recordOutcome(a.metrics, await a.ingest(delivery, null), Date.now() * 1000);
  } catch (error) {
    recordRetry(a.metrics, delivery.message.attributes.dataset ?? null, error);
    // The framework answers 500 to a throw, which Pub/Sub treats as a nack and redelivers.
    throw error;
  }
}

export async function apiHttp(req: Request, res: Response): Promise<void> {
  const a = await getApp();
  const url = req.originalUrl ?? req.url;
  const q = url.indexOf('?');
  const request: HttpRequest = {
    method: req.method,
    path: q === -1 ? url : url.slice(0, q),
    query: q === -1 ? '' : url.slice(q + 1),
    headers: req.headers,
    body: null,
  };
  const response = await a.apiHandler(request);
  res.status(response.status);
  for (const [k, v] of Object.entries(response.headers)) res.setHeader(k, v);
  const { body } = response;
  if (body === null || typeof body === 'string' || Buffer.isBuffer(body)) {
    res.end(body ?? undefined);
    return;
  }
  for await (const chunk of body) {
    if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
  }
  res.end();
}

ff.cloudEvent('ingest', ingestCloudEvent);
ff.http('api', apiHttp);
