/**
 * Writes the forms derived from `schemas/*.json` that other tools read as files: the BigQuery tables
 * and the Pub/Sub Avro schema, under `infra/generated/<dataset>/` for Terraform. A test fails when the
 * committed files differ from what this writes (`npm run derive` regenerates them).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../src/config.ts';
import { derivedFiles } from '../src/core/derive/files.ts';
import { loadSchemas } from '../src/core/schema-files.ts';

const schemas = loadSchemas(join(PACKAGE_ROOT, 'schemas'));
for (const [path, content] of derivedFiles(schemas.values())) {
  const full = join(PACKAGE_ROOT, path);
  mkdirSync(join(full, '..'), { recursive: true });
  writeFileSync(full, content);
  process.stdout.write(`wrote ${path}\n`);
}
