import type { DatasetSchema, FieldSpec } from '../dataset-schema.ts';
import { ERROR_CODES } from '../errors.ts';
import { DEFAULT_LIMIT, MAX_LIMIT } from '../query.ts';
import { API_KEY, CONTACT, GATEWAY_ERRORS, LICENSE, PUBLIC_ROUTES } from './api-contract.ts';
import { fieldJsonSchema } from './json-schema.ts';

const problemSchema = {
  type: 'object',
  required: ['type', 'title', 'status', 'code'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    code: { type: 'string', enum: Object.keys(ERROR_CODES) },
    detail: { type: 'string' },
    parameter: { type: 'string' },
  },
};

function outputField(f: FieldSpec, schema: DatasetSchema): Record<string, unknown> {
  const base = fieldJsonSchema(f, schema);
  if (f.type !== 'timestamp') return base;
  return {
    description: f.description,
    type: f.required ? 'string' : ['string', 'null'],
    format: 'date-time',
  };
}

function filterParameters(schema: DatasetSchema): Array<Record<string, unknown>> {
  const params: Array<Record<string, unknown>> = [
    {
      name: 'from',
      in: 'query',
      description: 'Start of the time range (inclusive), ISO 8601.',
      schema: { type: 'string', format: 'date-time' },
    },
    {
      name: 'to',
      in: 'query',
      description: 'End of the time range (exclusive), ISO 8601.',
      schema: { type: 'string', format: 'date-time' },
    },
  ];
  for (const d of schema.dimensions) {
    params.push({
      name: d,
      in: 'query',
      description: `Equality on ${d}; several values separated by commas (at most 100).`,
      schema: { type: 'string' },
    });
  }
  for (const m of [...schema.measures, schema.time.field]) {
    const f = schema.fields.find((x) => x.name === m)!;
    for (const op of ['gt', 'gte', 'lt', 'lte']) {
      params.push({
        name: `${m}.${op}`,
        in: 'query',
        description: `${m} ${{ gt: '>', gte: '≥', lt: '<', lte: '≤' }[op]} the value.`,
        schema: f.type === 'timestamp' ? { type: 'string', format: 'date-time' } : { type: f.type },
      });
    }
  }
  return params;
}

const errorResponses = {
  '400': { $ref: '#/components/responses/Problem' },
  '404': { $ref: '#/components/responses/Problem' },
  '406': { $ref: '#/components/responses/Problem' },
  '414': { $ref: '#/components/responses/Problem' },
  '503': { $ref: '#/components/responses/Problem' },
  ...Object.fromEntries(
    Object.keys(GATEWAY_ERRORS).map((status) => [
      status,
      { $ref: `#/components/responses/Gateway${status}` },
    ]),
  ),
};

/**
 * The OpenAPI 3.1 document of the API as a consumer reaches it, derived from the dataset schemas: the
 * data routes behind the API key, the open health route and this document. `serverUrl` is where the API
 * is reached; by default `/`, the host that served this document (through the gateway, the gateway).
 */
export function openApiDocument(
  schemas: Iterable<DatasetSchema>,
  info: { version: string; serverUrl?: string },
) {
  const paths: Record<string, unknown> = {};
  const components: Record<string, unknown> = {};
  for (const s of schemas) {
    const record = `${s.name}_record`;
    components[record] = {
      type: 'object',
      description: s.description,
      required: ['event_id', ...s.fields.filter((f) => f.required).map((f) => f.name)],
      properties: {
        event_id: { type: 'string', description: 'Stable id of the event (idempotency key).' },
        ...Object.fromEntries(s.fields.map((f) => [f.name, outputField(f, s)])),
      },
    };
    const measures = Object.fromEntries(
      s.measures.flatMap((m) =>
        ['min', 'max', 'avg', 'sum'].map((a) => [`${m}_${a}`, { type: ['number', 'null'] }]),
      ),
    );
    components[`${s.name}_stats_row`] = {
      type: 'object',
      required: ['count'],
      properties: {
        ...Object.fromEntries(
          s.dimensions.map((d) => [d, outputField(s.fields.find((f) => f.name === d)!, s)]),
        ),
        bucket: {
          type: 'string',
          format: 'date-time',
          description: 'Start of the hour or day, with bucket=.',
        },
        count: { type: 'integer' },
        ...measures,
      },
    };
    const filters = filterParameters(s);
    paths[`/v1/${s.name}`] = {
      get: {
        operationId: `list_${s.name}`,
        summary: `List ${s.title}`,
        description: `${s.description} Ordered by (${s.time.field}, event_id); page with next_cursor. Accept application/x-ndjson or text/csv to stream the whole result.`,
        parameters: [
          ...filters,
          {
            name: 'fields',
            in: 'query',
            description: 'Comma-separated fields to return (event_id always).',
            schema: { type: 'string' },
          },
          { name: 'order', in: 'query', schema: { type: 'string', enum: ['asc', 'desc'], default: 'asc' } },
          {
            name: 'limit',
            in: 'query',
            schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT },
          },
          {
            name: 'cursor',
            in: 'query',
            description: 'next_cursor of the previous page; valid only with the same filters and order.',
            schema: { type: 'string' },
          },
        ],
        responses: {
          '200': {
            description: 'A page of events.',
            headers: {
              Link: { description: 'rel="next" link to the next page', schema: { type: 'string' } },
              ETag: { schema: { type: 'string' } },
            },
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['data', 'next_cursor'],
                  properties: {
                    data: { type: 'array', items: { $ref: `#/components/schemas/${record}` } },
                    next_cursor: { type: ['string', 'null'] },
                  },
                },
              },
              'application/x-ndjson': { schema: { $ref: `#/components/schemas/${record}` } },
              'text/csv': { schema: { type: 'string' } },
            },
          },
          '304': { description: 'Not modified (If-None-Match).' },
          ...errorResponses,
        },
      },
    };
    paths[`/v1/${s.name}/stats`] = {
      get: {
        operationId: `stats_${s.name}`,
        summary: `Aggregates of ${s.title}`,
        parameters: [
          ...filters,
          {
            name: 'group_by',
            in: 'query',
            description: `Comma-separated dimensions: ${s.dimensions.join(', ')}.`,
            schema: { type: 'string' },
          },
          { name: 'bucket', in: 'query', schema: { type: 'string', enum: ['hour', 'day'] } },
        ],
        responses: {
          '200': {
            description: 'count and min/max/avg/sum of each measure, per group.',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['data'],
                  properties: {
                    data: { type: 'array', items: { $ref: `#/components/schemas/${s.name}_stats_row` } },
                  },
                },
              },
            },
          },
          '304': { description: 'Not modified (If-None-Match).' },
          ...errorResponses,
        },
      },
    };
    paths[`/v1/${s.name}/{event_id}`] = {
      get: {
        operationId: `get_${s.name}`,
        summary: `One event of ${s.title}`,
        parameters: [
          { name: 'event_id', in: 'path', required: true, schema: { type: 'string', maxLength: 256 } },
        ],
        responses: {
          '200': {
            description: 'The event.',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['data'],
                  properties: { data: { $ref: `#/components/schemas/${record}` } },
                },
              },
            },
          },
          '304': { description: 'Not modified (If-None-Match).' },
          ...errorResponses,
        },
      },
    };
  }
  // Open routes: no key, and no client error a GET of them can cause.
  const open = (operationId: string, summary: string, description: string) => ({
    get: {
      operationId,
      summary,
      description,
      security: [],
      responses: {
        '200': { description: summary, content: { 'application/json': { schema: { type: 'object' } } } },
        '503': { $ref: '#/components/responses/Problem' },
      },
    },
  });
  paths['/healthz'] = open('healthz', 'The API is alive.', 'Answers while the process runs; needs no key.');
  paths['/openapi.json'] = open(
    'openapi',
    'This document.',
    'The OpenAPI 3.1 document of the API; needs no key.',
  );
  for (const route of PUBLIC_ROUTES)
    if (!(route in paths)) throw new Error(`public route ${route} is not documented`);
  return {
    openapi: '3.1.0',
    info: {
      title: 'ducto API',
      version: info.version,
      description:
        'Events ingested from Pub/Sub, served from the warehouse. Errors are application/problem+json with a stable code. Operators also reach /readyz and /metrics on the service itself, not through the gateway.',
      license: LICENSE,
      contact: CONTACT,
    },
    servers: [{ url: info.serverUrl ?? '/', description: 'Where this API is reached.' }],
    security: [{ [API_KEY.scheme]: [] }],
    paths,
    components: {
      schemas: { ...components, problem: problemSchema },
      responses: {
        Problem: {
          description: 'An error (RFC 9457).',
          content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/problem' } } },
        },
        ...Object.fromEntries(
          Object.entries(GATEWAY_ERRORS).map(([status, description]) => [
            `Gateway${status}`,
            { description, content: { 'application/json': { schema: { type: 'object' } } } },
          ]),
        ),
      },
      securitySchemes: {
        [API_KEY.scheme]: {
          type: 'apiKey',
          in: 'header',
          name: API_KEY.header,
          description: API_KEY.description,
        },
      },
    },
  };
}
