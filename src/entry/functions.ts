/**
 * Entry points for Cloud Run functions (functions-framework): `ingest` (CloudEvent; a Pub/Sub push
 * envelope POSTed to it is converted by the framework) and `api` (HTTP). Both wrap the same handlers
 * that `ducto serve` runs on node:http.
 */

import type { Request, Response } from '@google-cloud/functions-framework';
import * as ff from '@google-cloud/functions-framework';
import type { App } from '../app.ts';
import { readConfig } from '../config.ts';
import { decodeDelivery } from '../core/delivery.ts';
import type { HttpRequest } from '../http/types.ts';
import { buildRuntime } from '../runtime.ts';

// One app per function instance, built on first use: the framework's model is one module per
// instance, so this is the single place where ducto keeps module state.
let app: Promise<App> | null = null;

function getApp(): Promise<App> {
  app ??= buildRuntime(readConfig(process.env)).then((runtime) => runtime.app);
  app.catch(() => {
    app = null;
  });
  return app;
}

export async function ingestCloudEvent(event: ff.CloudEvent<unknown>): Promise<void> {
  const a = await getApp();
  const delivery = decodeDelivery({ specversion: event.specversion, source: event.source, data: event.data });
  // The framework answers 500 to a throw, which Pub/Sub treats as a nack and redelivers.
  await a.ingest(delivery, null);
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
