import type { DatasetSchema } from '../dataset-schema.ts';
import { DEFAULT_LIMIT, MAX_LIMIT } from '../query.ts';
import { API_KEY, DOCS_ROUTES, GATEWAY_ERRORS, PUBLIC_ROUTES } from './api-contract.ts';

export interface GatewayOptions {
  title: string;
  version: string;
  /** The `api` function's URL: API Gateway forwards every route to it. */
  backendUrl: string;
  /** Seconds API Gateway waits for the backend. */
  deadlineSeconds?: number;
}

type Param = Record<string, unknown>;

const q = (name: string, type: string, description: string, extra: Param = {}): Param => ({
  name,
  in: 'query',
  type,
  description,
  required: false,
  ...extra,
});

/**
 * The Swagger 2.0 document API Gateway (managed ESPv2) and Cloud Endpoints require: the same routes
 * as the OpenAPI 3.1 document, an API key on every data route, and `x-google-backend` pointing at
 * the `api` function with the caller's path appended.
 */
export function gatewaySpec(
  schemas: Iterable<DatasetSchema>,
  options: GatewayOptions,
): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  const problem = { description: 'An error (application/problem+json, with a stable code).' };
  const errors = {
    '400': problem,
    '404': problem,
    '406': problem,
    '503': problem,
    ...Object.fromEntries(
      Object.entries(GATEWAY_ERRORS).map(([status, description]) => [status, { description }]),
    ),
  };
  for (const s of schemas) {
    const filters: Param[] = [
      q('from', 'string', 'Start of the time range (inclusive), ISO 8601.', { format: 'date-time' }),
      q('to', 'string', 'End of the time range (exclusive), ISO 8601.', { format: 'date-time' }),
      ...s.dimensions.map((d) => q(d, 'string', `Equality on ${d}; several values separated by commas.`)),
      ...[...s.measures, s.time.field].flatMap((m) => {
        const f = s.fields.find((x) => x.name === m)!;
        return ['gt', 'gte', 'lt', 'lte'].map((op) =>
          q(`${m}.${op}`, f.type === 'timestamp' ? 'string' : f.type, `Range on ${m} (${op}).`),
        );
      }),
    ];
    paths[`/v1/${s.name}`] = {
      get: {
        operationId: `list_${s.name}`,
        summary: `List ${s.title}`,
        produces: ['application/json', 'application/x-ndjson', 'text/csv'],
        parameters: [
          ...filters,
          q('fields', 'string', 'Comma-separated fields to return.'),
          q('order', 'string', 'asc or desc on (time, event_id).', { enum: ['asc', 'desc'], default: 'asc' }),
          q('limit', 'integer', 'Rows per page.', { minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT }),
          q('cursor', 'string', 'next_cursor of the previous page.'),
        ],
        responses: {
          '200': { description: 'A page of events.' },
          '304': { description: 'Not modified.' },
          ...errors,
        },
      },
    };
    paths[`/v1/${s.name}/stats`] = {
      get: {
        operationId: `stats_${s.name}`,
        summary: `Aggregates of ${s.title}`,
        produces: ['application/json'],
        parameters: [
          ...filters,
          q('group_by', 'string', `Comma-separated dimensions: ${s.dimensions.join(', ')}.`),
          q('bucket', 'string', 'Time bucket.', { enum: ['hour', 'day'] }),
        ],
        responses: {
          '200': { description: 'Aggregates.' },
          '304': { description: 'Not modified.' },
          ...errors,
        },
      },
    };
    paths[`/v1/${s.name}/{event_id}`] = {
      get: {
        operationId: `get_${s.name}`,
        summary: `One event of ${s.title}`,
        produces: ['application/json'],
        parameters: [{ name: 'event_id', in: 'path', required: true, type: 'string' }],
        responses: {
          '200': { description: 'The event.' },
          '304': { description: 'Not modified.' },
          ...errors,
        },
      },
    };
  }
  const open = (operationId: string, summary: string) => ({
    get: {
      operationId,
      summary,
      security: [],
      responses: { '200': { description: summary }, '503': problem },
    },
  });
  paths['/healthz'] = open('healthz', 'The API is alive.');
  paths['/openapi.json'] = open('openapi', 'The OpenAPI 3.1 document.');
  // The reference page and its scripts (src/api/docs-page.ts): static, open like the document.
  for (const [i, route] of DOCS_ROUTES.entries())
    paths[route] = open(`docs${i === 0 ? '' : `_asset_${i}`}`, 'The API reference page.');
  for (const route of PUBLIC_ROUTES)
    if (!(route in paths)) throw new Error(`public route ${route} is not in the gateway spec`);
  const url = new URL(options.backendUrl);
  return {
    swagger: '2.0',
    info: {
      title: options.title,
      version: options.version,
      description: 'ducto API behind API Gateway: every data route requires an API key.',
    },
    host: undefined,
    schemes: ['https'],
    produces: ['application/json'],
    'x-google-backend': {
      address: url.toString().replace(/\/$/, ''),
      path_translation: 'APPEND_PATH_TO_ADDRESS',
      deadline: options.deadlineSeconds ?? 30,
    },
    securityDefinitions: { [API_KEY.scheme]: { type: 'apiKey', name: API_KEY.header, in: 'header' } },
    security: [{ [API_KEY.scheme]: [] }],
    paths,
  };
}
