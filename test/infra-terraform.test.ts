/**
 * What the terraform binary can check here without providers: formatting, and the two modules that
 * need no provider (dataset-files, gateway-spec), evaluated for real against files generated from
 * the schemas. `terraform validate`, tflint and plans need providers and run in CI.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayFiles } from '../scripts/infra-gateway-spec.ts';
import { bigqueryDedupView, bigqueryTables } from '../src/core/derive/bigquery-schema.ts';
import { derivedFiles } from '../src/core/derive/files.ts';
import { gatewaySpec } from '../src/core/derive/swagger2.ts';
import { loadSchemas } from '../src/core/schema-files.ts';
import { ROOT } from '../support/root.ts';
import { allSchemas } from './helpers/schemas.ts';

const work = mkdtempSync(join(tmpdir(), 'ducto-infra-tf-'));
const cliConfig = join(work, 'terraformrc');
writeFileSync(cliConfig, '');
// No update check, no prompt, no user CLI configuration: the runs touch nothing outside `work`.
const env = { ...process.env, CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1', TF_CLI_CONFIG_FILE: cliConfig };

function terraform(args: string[], cwd = ROOT): { status: number | null; out: string } {
  const r = spawnSync('terraform', args, { cwd, env, encoding: 'utf8', timeout: 120_000 });
  return { status: r.error ? null : r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

const available = terraform(['version']).status === 0;
if (!available) console.log('infra-terraform: skipped, no terraform binary on PATH (CI runs these checks)');

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.skipIf(!available)('terraform fmt', () => {
  it('infra/ and the policy fixtures are formatted (terraform fmt -recursive)', () => {
    for (const dir of ['infra', 'test/fixtures/infra']) {
      const r = terraform(['fmt', '-check', '-recursive', '-diff', '-no-color', dir]);
      expect(r.out, `terraform fmt -recursive ${dir}`).not.toMatch(/\.tf/);
      expect(r.status, r.out).toBe(0);
    }
  });
});

describe.skipIf(!available)('provider-free modules, evaluated', () => {
  const schemas = [...allSchemas().values()];
  const withoutView = schemas.at(-1)!.name;
  let outputs: { datasets: Record<string, any>; document: string; real: Record<string, any> };

  beforeAll(() => {
    // The files `npm run derive` and `npm run infra:gateway` would write for every schema, the
    // test fixtures' included; the last dataset has no dedup view, as a dataset may not.
    const files = join(work, 'files');
    for (const [path, content] of derivedFiles(schemas)) {
      mkdirSync(join(files, path, '..'), { recursive: true });
      writeFileSync(join(files, path), content);
    }
    unlinkSync(join(files, 'infra/generated', withoutView, 'dedup-view.json'));
    for (const [path, value] of gatewayFiles(schemas)) {
      mkdirSync(join(files, path, '..'), { recursive: true });
      writeFileSync(join(files, path), JSON.stringify(value));
    }
    const root = join(work, 'root');
    mkdirSync(root);
    const modules = resolve(ROOT, 'infra/modules');
    const real = [...loadSchemas(join(ROOT, 'schemas')).keys()];
    writeFileSync(
      join(root, 'main.tf'),
      `
module "files" {
  source        = "${modules}/dataset-files"
  datasets      = ${JSON.stringify(schemas.map((s) => s.name))}
  generated_dir = "${files}/infra/generated"
  gateway_dir   = "${files}/infra/gateway"
}
module "real" {
  source        = "${modules}/dataset-files"
  datasets      = ${JSON.stringify(real)}
  generated_dir = "${resolve(ROOT, 'infra/generated')}"
  gateway_dir   = "${resolve(ROOT, 'infra/gateway')}"
}
module "spec" {
  source                    = "${modules}/gateway-spec"
  title                     = "ducto test"
  backend_url               = "https://api-test.a.run.app"
  base_document             = file("${files}/infra/gateway/base.json")
  dataset_paths             = [for d in ${JSON.stringify(schemas.map((s) => s.name))} : module.files.datasets[d].gateway_paths]
  quota_requests_per_minute = 120
}
output "datasets" { value = module.files.datasets }
output "real" { value = module.real.datasets }
output "document" { value = module.spec.document }
`,
    );
    for (const args of [
      ['init', '-input=false', '-no-color'],
      ['apply', '-auto-approve', '-input=false', '-no-color'],
    ]) {
      const r = terraform(args, root);
      if (r.status !== 0) throw new Error(`terraform ${args[0]} failed:\n${r.out}`);
    }
    const r = terraform(['output', '-json', '-no-color'], root);
    const json = JSON.parse(r.out) as Record<string, { value: unknown }>;
    outputs = {
      datasets: json.datasets!.value as Record<string, any>,
      real: json.real!.value as Record<string, any>,
      document: json.document!.value as string,
    };
  }, 180_000);

  it('dataset-files gives each dataset its events and rejected tables, as derived from the schema', () => {
    expect(Object.keys(outputs.datasets).sort()).toEqual(schemas.map((s) => s.name).sort());
    for (const s of schemas) {
      const { events, rejected } = bigqueryTables(s);
      const d = outputs.datasets[s.name];
      expect(Object.keys(d.tables).sort()).toEqual([events.table_id, rejected.table_id].sort());
      for (const t of [events, rejected]) {
        const got = d.tables[t.table_id];
        expect(JSON.parse(got.schema)).toEqual(JSON.parse(JSON.stringify(t.schema)));
        expect(got.partition_field).toBe(t.time_partitioning.field);
        expect(got.partition_type).toBe('DAY');
        expect(got.clustering).toEqual(t.clustering ?? []);
        expect(got.description).toBe(t.description);
      }
      expect(JSON.parse(d.avro_schema).name).toBe(s.name);
    }
  });

  it('dataset-files reads the dedup view where there is one, and none where there is not', () => {
    for (const s of schemas) {
      const views = outputs.datasets[s.name].views;
      if (s.name === withoutView) {
        expect(views).toEqual({});
        continue;
      }
      const view = bigqueryDedupView(s);
      expect(views).toEqual({ [view.table_id]: { description: view.description, query: view.query } });
      // The system module fills these placeholders with the project and the BigQuery dataset.
      expect(view.query).toContain(`\${project}.\${dataset}.`);
    }
  });

  it('dataset-files reads the committed infra/generated and infra/gateway files', () => {
    expect(Object.keys(outputs.real).length).toBeGreaterThan(0);
    for (const [name, d] of Object.entries(outputs.real)) {
      expect(d.tables[name]?.partition_field, name).toBeTruthy();
      expect(d.tables[`${name}_rejected`], name).toBeDefined();
      expect(Object.keys(JSON.parse(d.gateway_paths))).toContain(`/v1/${name}`);
    }
  });

  it('gateway-spec builds a valid Swagger 2.0 document: the derived API, the backend, the quota', async () => {
    const doc = JSON.parse(outputs.document);
    await SwaggerParser.validate(structuredClone(doc));
    expect(doc['x-google-backend'].address).toBe('https://api-test.a.run.app');
    expect(doc.info.title).toBe('ducto test');
    const limit = doc['x-google-management'].quota.limits[0];
    expect(limit).toMatchObject({
      metric: 'read-requests',
      unit: '1/min/{project}',
      values: { STANDARD: 120 },
    });
    expect(doc['x-google-management'].metrics[0].name).toBe('read-requests');

    // Every keyed route costs one request; open routes cost nothing (no consumer to charge).
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      for (const op of Object.values(ops)) {
        const open = Array.isArray(op.security) && op.security.length === 0;
        expect(op['x-google-quota'], path).toEqual(
          open ? undefined : { metricCosts: { 'read-requests': 1 } },
        );
      }
    }

    // Without the quota, it is exactly what src/core/derive/swagger2.ts derives for these datasets.
    const { 'x-google-management': _m, ...rest } = doc;
    for (const ops of Object.values(rest.paths as Record<string, Record<string, any>>)) {
      for (const op of Object.values(ops)) delete op['x-google-quota'];
    }
    const expected = gatewaySpec(schemas, {
      title: 'ducto test',
      version: 'v1',
      backendUrl: 'https://api-test.a.run.app',
    });
    expect(rest).toEqual(JSON.parse(JSON.stringify(expected)));
  });
});
