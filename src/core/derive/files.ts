import type { DatasetSchema } from '../dataset-schema.ts';
import { avroSchema } from './avro-schema.ts';
import { bigqueryDedupView, bigqueryTables } from './bigquery-schema.ts';

const GENERATED_DIR = 'infra/generated';

/** Path (relative to the repository) → content of every file derived from the dataset schemas. */
export function derivedFiles(schemas: Iterable<DatasetSchema>): Map<string, string> {
  const files = new Map<string, string>();
  const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;
  for (const s of schemas) {
    const { events, rejected } = bigqueryTables(s);
    files.set(`${GENERATED_DIR}/${s.name}/table.json`, json(events));
    files.set(`${GENERATED_DIR}/${s.name}/rejected-table.json`, json(rejected));
    files.set(`${GENERATED_DIR}/${s.name}/dedup-view.json`, json(bigqueryDedupView(s)));
    files.set(`${GENERATED_DIR}/${s.name}/pubsub-schema.avsc`, json(avroSchema(s)));
  }
  return files;
}
