import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { parseDatasetSchema } from '../src/core/dataset-schema.ts';
import { avroSchema } from '../src/core/derive/avro-schema.ts';
import { bigqueryTables } from '../src/core/derive/bigquery-schema.ts';
import { duckdbEventColumns } from '../src/core/derive/duckdb-ddl.ts';
import { derivedFiles } from '../src/core/derive/files.ts';
import { recordJsonSchema } from '../src/core/derive/json-schema.ts';
import { openApiDocument } from '../src/core/derive/openapi.ts';
import { createRecordDecoder } from '../src/core/record.ts';
import { loadSchemas } from '../src/core/schema-files.ts';
import { ROOT } from '../support/root.ts';
import { allSchemas } from './helpers/schemas.ts';

const META = ['event_id', 'publish_time', 'ingested_at'];

describe.each([...allSchemas().values()])('derived forms of $name', (schema) => {
  const names = schema.fields.map((f) => f.name);

  it('agree on field names, order and nullability', () => {
    const json = recordJsonSchema(schema) as { properties: Record<string, unknown>; required: string[] };
    const duck = duckdbEventColumns(schema);
    const { events } = bigqueryTables(schema);
    const av = avroSchema(schema) as { fields: Array<{ name: string; type: unknown }> };
    const components = openApiDocument([schema], { version: 't' }).components.schemas as Record<
      string,
      unknown
    >;
    const api = components[`${schema.name}_record`] as {
      properties: Record<string, unknown>;
      required: string[];
    };

    expect(Object.keys(json.properties)).toEqual(names);
    expect(duck.map((c) => c.name)).toEqual([...names, ...META]);
    expect(events.schema.map((c) => c.name)).toEqual([...names, ...META]);
    expect(av.fields.map((f) => f.name)).toEqual(names);
    expect(Object.keys(api.properties)).toEqual(['event_id', ...names]);

    const required = schema.fields.filter((f) => f.required).map((f) => f.name);
    expect(json.required).toEqual(required);
    expect(api.required).toEqual(['event_id', ...required]);
    expect(
      duck.filter((c) => names.includes(c.name) && c.constraint === 'NOT NULL').map((c) => c.name),
    ).toEqual(required);
    expect(
      events.schema.filter((c) => names.includes(c.name) && c.mode === 'REQUIRED').map((c) => c.name),
    ).toEqual(required);
    expect(av.fields.filter((f) => !Array.isArray(f.type)).map((f) => f.name)).toEqual(required);
  });

  it('agree on types', () => {
    const duck = new Map(duckdbEventColumns(schema).map((c) => [c.name, c.type]));
    const bq = new Map(bigqueryTables(schema).events.schema.map((c) => [c.name, c.type]));
    const expected = {
      string: ['VARCHAR', 'STRING'],
      integer: ['BIGINT', 'INT64'],
      number: ['DOUBLE', 'FLOAT64'],
      boolean: ['BOOLEAN', 'BOOL'],
      timestamp: ['TIMESTAMP', 'TIMESTAMP'],
    };
    for (const f of schema.fields) expect([duck.get(f.name), bq.get(f.name)]).toEqual(expected[f.type]);
  });

  it('partition on the event time and cluster on the declared columns', () => {
    const { events, rejected } = bigqueryTables(schema);
    expect(events.time_partitioning).toEqual({
      type: 'DAY',
      field: schema.time.field,
      require_partition_filter: true,
    });
    expect(events.clustering).toEqual(schema.clustering);
    expect(rejected.table_id).toBe(`${schema.name}_rejected`);
  });

  it('accept the real sample data in every form: validator, and Avro for plain-JSON topics', () => {
    const file = join(ROOT, 'node_modules', schema.sample!.package, schema.sample!.file);
    const text = readFileSync(file, 'utf8');
    let records: Array<Record<string, unknown>>;
    if (file.endsWith('.csv')) {
      const [head, ...lines] = text.trim().split('\n');
      const cols = head!.split(',');
      records = lines.map((l) => {
        const v = l.split(',');
        return Object.fromEntries(
          cols.map((c, i) => {
            const f = schema.fields.find((x) => x.name === c)!;
            return [c, f.type === 'number' ? Number(v[i]) : v[i]];
          }),
        );
      });
    } else {
      records = JSON.parse(text);
    }
    expect(records.length).toBeGreaterThan(1000);
    const decode = createRecordDecoder(schema, { maxBytes: 65536 });
    const type = avro.Type.forSchema(avroSchema(schema) as avro.Schema);
    for (const r of records) {
      const result = decode(Buffer.from(JSON.stringify(r)));
      if (!result.ok) throw new Error(`${JSON.stringify(r)} rejected: ${result.code} ${result.detail}`);
      // Pub/Sub validates JSON messages with Avro's JSON encoding, where a nullable field is a union;
      // a record with only required fields is the same in plain JSON and in Avro JSON.
      if (schema.fields.every((f) => f.required)) expect(type.isValid(r)).toBe(true);
    }
  });
});

describe('schema files', () => {
  it('the committed derived files are what the schemas produce (npm run derive)', () => {
    const schemas = loadSchemas(join(ROOT, 'schemas'));
    for (const [path, content] of derivedFiles(schemas.values())) {
      expect(readFileSync(join(ROOT, path), 'utf8'), `${path} is stale: run npm run derive`).toBe(content);
    }
  });

  it.each([
    ['time field not a timestamp', { time: { field: 'delay', formats: [] } }],
    ['unknown dimension', { dimensions: ['gate'] }],
    ['measure not numeric', { measures: ['origin'] }],
    [
      'reserved field name',
      { fields: [{ name: 'event_id', type: 'string', required: true, description: 'x' }] },
    ],
    ['bad name', { name: 'Flights!' }],
    ['unknown property', { partitions: 3 }],
    ['key not required', { key: 'nope' }],
  ])('refuses a schema with %s', (_why, patch) => {
    const base = JSON.parse(readFileSync(join(ROOT, 'schemas/flights.json'), 'utf8'));
    expect(() => parseDatasetSchema({ ...base, ...patch })).toThrow(
      expect.objectContaining({ code: 'schema_invalid' }),
    );
  });
});

describe('API Gateway spec (Swagger 2.0)', () => {
  it('is a valid Swagger 2.0 document with an API key on data routes and the backend set', async () => {
    const { default: SwaggerParser } = await import('@apidevtools/swagger-parser');
    const { gatewaySpec } = await import('../src/core/derive/swagger2.ts');
    const doc = JSON.parse(
      JSON.stringify(
        gatewaySpec(allSchemas().values(), {
          title: 'ducto',
          version: '1',
          backendUrl: 'https://api-xyz.a.run.app',
        }),
      ),
    );
    await SwaggerParser.validate(structuredClone(doc));
    expect(doc['x-google-backend']).toMatchObject({
      address: 'https://api-xyz.a.run.app',
      path_translation: 'APPEND_PATH_TO_ADDRESS',
    });
    expect(doc.security).toEqual([{ api_key: [] }]);
    expect(doc.paths['/healthz'].get.security).toEqual([]);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/flights', '/v1/seattle_weather/stats']),
    );
  });
});
