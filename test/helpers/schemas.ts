import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DatasetSchema, parseDatasetSchema } from '../../src/core/dataset-schema.ts';
import { loadSchemas } from '../../src/core/schema-files.ts';
import { ROOT } from '../../support/root.ts';

export function flights(): DatasetSchema {
  return loadSchemas(join(ROOT, 'schemas')).get('flights')!;
}

export function seattleWeather(): DatasetSchema {
  return parseDatasetSchema(
    JSON.parse(readFileSync(join(ROOT, 'test/fixtures/schemas/seattle_weather.json'), 'utf8')),
  );
}

/** The shipped schemas plus the test-only second dataset. */
export function allSchemas(): Map<string, DatasetSchema> {
  const m = loadSchemas(join(ROOT, 'schemas'));
  const s = seattleWeather();
  m.set(s.name, s);
  return m;
}
