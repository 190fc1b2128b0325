import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DatasetSchema, parseDatasetSchema } from './dataset-schema.ts';
import { DuctoError } from './errors.ts';

/** Loads every `*.json` in a directory as a dataset schema; the file name must match the dataset name. */
export function loadSchemas(dir: string): Map<string, DatasetSchema> {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch (cause) {
    throw new DuctoError('config_invalid', `cannot read the schemas directory ${dir}`, { cause });
  }
  const schemas = new Map<string, DatasetSchema>();
  for (const file of files.sort()) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    } catch (cause) {
      throw new DuctoError('schema_invalid', `${file}: not valid JSON`, { cause });
    }
    const schema = parseDatasetSchema(raw, file);
    if (`${schema.name}.json` !== file) {
      throw new DuctoError('schema_invalid', `${file}: name "${schema.name}" must match the file name`);
    }
    schemas.set(schema.name, schema);
  }
  if (schemas.size === 0) throw new DuctoError('config_invalid', `no dataset schema (*.json) in ${dir}`);
  return schemas;
}

/** Keeps the datasets one instance serves (DUCTO_DATASETS); every name must have a schema file. */
export function selectSchemas(
  schemas: Map<string, DatasetSchema>,
  names: readonly string[] | null,
): Map<string, DatasetSchema> {
  if (names === null) return schemas;
  const unknown = names.filter((n) => !schemas.has(n));
  if (unknown.length > 0) {
    throw new DuctoError(
      'config_invalid',
      `DUCTO_DATASETS names datasets with no schema file: ${unknown.join(', ')}`,
    );
  }
  return new Map(names.map((n) => [n, schemas.get(n)!]));
}
