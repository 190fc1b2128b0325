import type { DatasetSchema, FieldSpec } from '../dataset-schema.ts';

/** The JSON Schema (draft 2020-12) a message's record must satisfy; also used in the OpenAPI document. */
export function recordJsonSchema(schema: DatasetSchema): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: schema.title,
    description: schema.description,
    type: 'object',
    additionalProperties: false,
    required: schema.fields.filter((f) => f.required).map((f) => f.name),
    properties: Object.fromEntries(schema.fields.map((f) => [f.name, fieldJsonSchema(f, schema)])),
  };
}

export function fieldJsonSchema(f: FieldSpec, schema: DatasetSchema): Record<string, unknown> {
  const base: Record<string, unknown> = { description: f.description };
  const nullable = (t: string) => (f.required ? t : [t, 'null']);
  switch (f.type) {
    case 'string':
      return {
        ...base,
        type: nullable('string'),
        ...(f.maxLength !== undefined && { maxLength: f.maxLength }),
        ...(f.pattern !== undefined && { pattern: f.pattern }),
        ...(f.enum !== undefined && { enum: f.required ? f.enum : [...f.enum, null] }),
      };
    case 'integer':
    case 'number':
      return {
        ...base,
        type: nullable(f.type),
        // Past 2^53 a JSON integer silently loses digits in every JSON parser, so it is refused.
        minimum: f.minimum ?? (f.type === 'integer' ? Number.MIN_SAFE_INTEGER : -Number.MAX_VALUE),
        maximum: f.maximum ?? (f.type === 'integer' ? Number.MAX_SAFE_INTEGER : Number.MAX_VALUE),
      };
    case 'boolean':
      return { ...base, type: nullable('boolean') };
    case 'timestamp': {
      const formats = f.name === schema.time.field ? schema.time.formats : [];
      return {
        ...base,
        type: nullable('string'),
        maxLength: 64,
        description: `${f.description} ISO 8601${formats.length ? ` or ${formats.map((x) => `"${x}"`).join(', ')}` : ''}; UTC when no zone is given.`,
      };
    }
  }
}
