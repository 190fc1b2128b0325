import { Ajv } from 'ajv';
import { DuctoError } from './errors.ts';

/** Field types a dataset may declare; every derived form (DDL, BigQuery, Avro, JSON Schema) maps these. */
export type FieldType = 'string' | 'integer' | 'number' | 'boolean' | 'timestamp';

export interface FieldSpec {
  name: string;
  type: FieldType;
  required: boolean;
  description: string;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  pattern?: string;
  enum?: string[];
}

export interface DatasetSchema {
  name: string;
  title: string;
  description: string;
  fields: FieldSpec[];
  /** The event time: partitions, ranges (`from`/`to`) and keyset ordering use it. */
  time: { field: string; formats: string[] };
  /** A field whose value identifies the event when the producer sets no `event_id` attribute. */
  key: string | null;
  dimensions: string[];
  measures: string[];
  clustering: string[];
  sample?: { package: string; file: string };
}

/** Metadata columns every stored event carries besides its schema fields. */
const META_COLUMNS = ['event_id', 'publish_time', 'ingested_at'] as const;
const RESERVED = new Set<string>([
  ...META_COLUMNS,
  'cursor',
  'limit',
  'order',
  'fields',
  'from',
  'to',
  'group_by',
  'bucket',
]);
const IDENT = '^[a-z][a-z0-9_]{0,62}$';

const metaSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'title', 'description', 'fields', 'time', 'key', 'dimensions', 'measures', 'clustering'],
  properties: {
    $schema: { type: 'string' },
    name: { type: 'string', pattern: IDENT },
    title: { type: 'string', minLength: 1 },
    description: { type: 'string', minLength: 1 },
    fields: {
      type: 'array',
      minItems: 1,
      maxItems: 200,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'type', 'required', 'description'],
        properties: {
          name: { type: 'string', pattern: IDENT },
          type: { enum: ['string', 'integer', 'number', 'boolean', 'timestamp'] },
          required: { type: 'boolean' },
          description: { type: 'string', minLength: 1 },
          minimum: { type: 'number' },
          maximum: { type: 'number' },
          maxLength: { type: 'integer', minimum: 1 },
          pattern: { type: 'string' },
          enum: { type: 'array', items: { type: 'string' }, minItems: 1 },
        },
      },
    },
    time: {
      type: 'object',
      additionalProperties: false,
      required: ['field', 'formats'],
      properties: {
        field: { type: 'string' },
        formats: { type: 'array', items: { type: 'string', minLength: 1 } },
      },
    },
    key: { type: ['string', 'null'] },
    dimensions: { type: 'array', items: { type: 'string' }, uniqueItems: true },
    measures: { type: 'array', items: { type: 'string' }, uniqueItems: true },
    clustering: { type: 'array', items: { type: 'string' }, uniqueItems: true, maxItems: 4 },
    sample: {
      type: 'object',
      additionalProperties: false,
      required: ['package', 'file'],
      properties: { package: { type: 'string' }, file: { type: 'string' } },
    },
  },
} as const;

const validateMeta = new Ajv({ allErrors: true }).compile(metaSchema);

/**
 * Checks a parsed schema file: its shape, then the cross-references a JSON Schema cannot express
 * (the time field is a required timestamp, dimensions are strings or booleans, measures numeric…).
 */
export function parseDatasetSchema(input: unknown, source = 'schema'): DatasetSchema {
  if (!validateMeta(input)) {
    const detail = (validateMeta.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
    throw new DuctoError('schema_invalid', `${source}: ${detail}`);
  }
  const schema = input as unknown as DatasetSchema;
  const problems: string[] = [];
  const byName = new Map(schema.fields.map((f) => [f.name, f]));
  if (byName.size !== schema.fields.length) problems.push('field names must be unique');
  for (const f of schema.fields) {
    if (RESERVED.has(f.name)) problems.push(`field "${f.name}" uses a reserved name`);
    if (f.pattern !== undefined) {
      try {
        new RegExp(f.pattern, 'u');
      } catch {
        problems.push(`field "${f.name}" has an invalid pattern`);
      }
    }
    if ((f.minimum !== undefined || f.maximum !== undefined) && f.type !== 'integer' && f.type !== 'number') {
      problems.push(`field "${f.name}": minimum/maximum apply to numeric fields`);
    }
    if (
      (f.maxLength !== undefined || f.pattern !== undefined || f.enum !== undefined) &&
      f.type !== 'string'
    ) {
      problems.push(`field "${f.name}": maxLength/pattern/enum apply to string fields`);
    }
  }
  const time = byName.get(schema.time.field);
  if (time?.type !== 'timestamp' || !time.required) {
    problems.push(`time.field "${schema.time.field}" must name a required timestamp field`);
  }
  if (schema.key !== null) {
    const key = byName.get(schema.key);
    if (!key?.required || key.type === 'number' || key.type === 'boolean') {
      problems.push(`key "${schema.key}" must name a required string, integer or timestamp field`);
    }
  }
  for (const d of schema.dimensions) {
    const f = byName.get(d);
    if (!f || (f.type !== 'string' && f.type !== 'boolean' && f.type !== 'integer')) {
      problems.push(`dimension "${d}" must name a string, integer or boolean field`);
    }
  }
  for (const m of schema.measures) {
    const f = byName.get(m);
    if (!f || (f.type !== 'integer' && f.type !== 'number'))
      problems.push(`measure "${m}" must name a numeric field`);
  }
  for (const c of schema.clustering) {
    if (!byName.has(c)) problems.push(`clustering column "${c}" is not a field`);
  }
  if (problems.length > 0) throw new DuctoError('schema_invalid', `${source}: ${problems.join('; ')}`);
  return schema;
}

/** Table names derived from the dataset name; the same in DuckDB and BigQuery. */
export function tableNames(schema: Pick<DatasetSchema, 'name'>): { events: string; rejected: string } {
  return { events: schema.name, rejected: `${schema.name}_rejected` };
}
