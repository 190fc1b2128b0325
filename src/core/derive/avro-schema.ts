import type { DatasetSchema, FieldSpec } from '../dataset-schema.ts';

type AvroType = string | Record<string, unknown> | Array<string | Record<string, unknown>>;

function avroType(f: FieldSpec): AvroType {
  // Pub/Sub validates JSON-encoded messages against the Avro schema. Timestamps arrive as text in
  // ISO 8601 or the source's own format, so they are strings on the wire; the ingest decoder is what
  // turns them into instants.
  const base: AvroType =
    f.type === 'integer'
      ? 'long'
      : f.type === 'number'
        ? 'double'
        : f.type === 'boolean'
          ? 'boolean'
          : 'string';
  return f.required ? base : ['null', base];
}

/** The Avro schema of a dataset's topic (`google_pubsub_schema`, type AVRO). */
export function avroSchema(schema: DatasetSchema): Record<string, unknown> {
  return {
    type: 'record',
    name: schema.name,
    namespace: 'dev.ducto',
    doc: schema.description,
    fields: schema.fields.map((f) => ({
      name: f.name,
      type: avroType(f),
      doc: f.description,
      ...(!f.required && { default: null }),
    })),
  };
}
