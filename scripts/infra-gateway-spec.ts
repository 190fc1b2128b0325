/**
 * Writes the parts of the API Gateway document that come from the code, for Terraform to assemble
 * per system (infra/modules/gateway-spec): `infra/gateway/base.json`, the document without datasets,
 * and `infra/gateway/datasets/<dataset>.json`, each dataset's paths. The backend address is a
 * placeholder Terraform replaces with the api service's URL.
 *
 *   npm run infra:gateway      # after adding or changing a schema; a test fails when they differ
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../src/config.ts';
import type { DatasetSchema } from '../src/core/dataset-schema.ts';
import { gatewaySpec } from '../src/core/derive/swagger2.ts';
import { loadSchemas } from '../src/core/schema-files.ts';

export const GATEWAY_DIR = 'infra/gateway';
const OPTIONS = { title: 'ducto', version: 'v1', backendUrl: 'https://backend.invalid' };

/** Path (relative to the repository) → JSON value of every generated gateway file. */
export function gatewayFiles(schemas: Iterable<DatasetSchema>): Map<string, unknown> {
  const base = gatewaySpec([], OPTIONS) as { paths: Record<string, unknown> };
  const files = new Map<string, unknown>([[`${GATEWAY_DIR}/base.json`, base]]);
  for (const s of schemas) {
    const { paths } = gatewaySpec([s], OPTIONS) as { paths: Record<string, unknown> };
    const own = Object.fromEntries(Object.entries(paths).filter(([p]) => !(p in base.paths)));
    files.set(`${GATEWAY_DIR}/datasets/${s.name}.json`, own);
  }
  return files;
}

function main(): void {
  const files = gatewayFiles(loadSchemas(join(PACKAGE_ROOT, 'schemas')).values());
  const datasets = join(PACKAGE_ROOT, GATEWAY_DIR, 'datasets');
  // A removed schema must not leave its paths behind.
  rmSync(datasets, { recursive: true, force: true });
  mkdirSync(datasets, { recursive: true });
  for (const [path, value] of files) {
    writeFileSync(join(PACKAGE_ROOT, path), `${JSON.stringify(value, null, 2)}\n`);
    process.stdout.write(`wrote ${path}\n`);
  }
  // Biome lints these files like any other JSON; the test compares values, not layout.
  execFileSync(join(PACKAGE_ROOT, 'node_modules/.bin/biome'), ['format', '--write', GATEWAY_DIR], {
    cwd: PACKAGE_ROOT,
    stdio: 'inherit',
  });
}

if (import.meta.url === `file://${process.argv[1]}`) main();
