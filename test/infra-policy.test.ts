import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Body, blocks, INFRA_DIR, loadModules, resources, type TfModule } from '../scripts/infra-hcl.ts';
import { checkModules, isRoot, loadSchema, RULES } from '../scripts/infra-policy.ts';
import type { ProviderSchema } from '../scripts/infra-provider-schema.ts';

const FIXTURES = 'test/fixtures/infra';

/** What each rule's fixture breaks: every message must be reported, and nothing else. */
const EXPECTED: Record<string, string[]> = {
  'no-public-principals': ['google_cloud_run_v2_service_iam_binding.public names allUsers'],
  'no-service-account-keys': ['google_service_account_key.ci is a service account key'],
  'compute-own-service-account': [
    'google_cloudfunctions2_function.ingest shares its service account with google_cloudfunctions2_function.api',
    'google_cloudfunctions2_function.legacy does not run as a google_service_account of its module',
  ],
  'function-supported-runtime': [
    'google_cloudfunctions2_function.api runs nodejs20',
    'google_cloudfunctions2_function.ingest takes its runtime from var.runtime',
  ],
  'subscription-dead-letter-and-oidc': [
    'google_pubsub_subscription.default pushes without an OIDC token',
    'google_pubsub_subscription.default has no dead-letter policy',
    'google_pubsub_subscription.default has no retry policy',
    'google_pubsub_subscription.pull is neither a push subscription nor on a dead-letter topic',
  ],
  'table-partition-filter': [
    'google_bigquery_table.default does not require a partition filter',
    'google_bigquery_table.unpartitioned is not partitioned on a column',
  ],
  'wif-repository-id': ['google_iam_workload_identity_pool_provider.default accepts tokens without checking'],
  'variables-described': [
    'variable project_id has no description',
    'variable region has no description',
    'variable region has no type',
  ],
  'variables-sorted': [
    'variable region is out of alphabetical order',
    'map variable labels defaults to null',
  ],
  'providers-pinned': [
    'no required_version',
    'provider google is not pinned to one version',
    'provider google-beta is not pinned to one version (">= 6.0")',
    'provider random is used but not in required_providers',
  ],
  'provider-schema': [
    'google_pubsub_subscription.default: unknown argument "ack_deadline_second"',
    'google_pubsub_subscription.default.labels is an argument, written as a block',
    'google_bigquery_table.default: required "dataset_id" is missing',
    'google_api_gateway_api.default exists only in google-beta',
  ],
  labels: [
    'google_pubsub_topic.default sets no labels',
    'google_pubsub_topic.dead_letter labels do not carry system, env, component',
  ],
  'gcs-backend': ['the backend bucket is written in code'],
  'prod-deletion-protection': ['system sets deletion_protection = false'],
};

let infra: TfModule[];
let schema: ProviderSchema;

beforeAll(async () => {
  infra = await loadModules(INFRA_DIR);
  schema = loadSchema();
});

describe('infra policy', () => {
  it('finds the modules, roots and resources it is meant to check', () => {
    const dirs = infra.map((m) => m.dir);
    expect(dirs).toEqual(
      expect.arrayContaining([
        'infra/bootstrap',
        'infra/envs/dev',
        'infra/envs/prod',
        'infra/modules/pubsub-dataset',
        'infra/modules/bigquery-dataset',
        'infra/modules/function',
        'infra/modules/api-gateway',
        'infra/modules/ci-identity',
        'infra/modules/artifact-registry',
        'infra/modules/cloud-run-service',
        'infra/modules/system',
      ]),
    );
    expect(infra.filter(isRoot).map((m) => m.dir)).toEqual([
      'infra/bootstrap',
      'infra/envs/dev',
      'infra/envs/prod',
    ]);
    const types = new Set(infra.flatMap((m) => resources(m).map((r) => r.type)));
    for (const t of [
      'google_cloudfunctions2_function',
      'google_pubsub_subscription',
      'google_bigquery_table',
      'google_iam_workload_identity_pool_provider',
      'google_api_gateway_gateway',
      'google_cloud_run_v2_service',
    ]) {
      expect(types, t).toContain(t);
    }
  });

  it.each(RULES.map((r) => [r.id, r] as const))('infra/ passes %s', (_id, rule) => {
    const findings = checkModules(infra, schema, [rule]);
    expect(findings.map((f) => `${f.file}: ${f.message}`)).toEqual([]);
  });

  it('every rule has a fixture and every fixture belongs to a rule', () => {
    const fixtureDirs = readdirSync(FIXTURES).filter((d) => statSync(join(FIXTURES, d)).isDirectory());
    const withTf = fixtureDirs.filter((d) => hasTf(join(FIXTURES, d)));
    expect(withTf.sort()).toEqual(RULES.map((r) => r.id).sort());
    expect(Object.keys(EXPECTED).sort()).toEqual(RULES.map((r) => r.id).sort());
  });

  it.each(RULES.map((r) => [r.id, r] as const))('%s fails on its fixture', async (id, rule) => {
    const modules = await loadModules(join(FIXTURES, id));
    const messages = checkModules(modules, schema, [rule]).map((f) => f.message);
    const expected = EXPECTED[id]!;
    for (const e of expected)
      expect(
        messages.some((m) => m.includes(e)),
        `${id}: "${e}" in ${messages}`,
      ).toBe(true);
    expect(messages).toHaveLength(expected.length);
  });
});

describe('provider schema', () => {
  it('covers every resource type the Terraform uses (npm run infra:schema regenerates it)', () => {
    for (const m of infra) {
      for (const r of resources(m)) expect(schema[r.kind][r.type], `${r.kind} ${r.type}`).toBeDefined();
    }
  });

  it('comes from the provider versions the env roots pin', () => {
    for (const root of infra.filter((m) => m.dir.startsWith('infra/envs/'))) {
      const pins = new Map<string, unknown>();
      for (const f of root.files) {
        for (const [, tf] of blocks(f.json, 'terraform')) {
          for (const [, rp] of blocks(tf, 'required_providers')) {
            for (const [name, spec] of Object.entries(rp)) pins.set(name, (spec as Body).version);
          }
        }
      }
      for (const [name, { version }] of Object.entries(schema.providers)) {
        expect(pins.get(name), `${root.dir} pins ${name}`).toBe(version);
      }
    }
  });

  it('knows the arguments of the resources that matter, so its extraction is not silently empty', () => {
    const sub = schema.resource.google_pubsub_subscription!;
    expect(sub.required).toEqual(['name', 'topic']);
    expect(sub.blocks.push_config!.blocks.oidc_token!.attributes).toContain('service_account_email');
    expect(sub.blocks.dead_letter_policy!.attributes).toContain('max_delivery_attempts');
    expect(schema.resource.google_cloudfunctions2_function!.blocks.service_config!.attributes).toContain(
      'max_instance_request_concurrency',
    );
    expect(schema.resource.google_iam_workload_identity_pool_provider!.attributes).toContain(
      'attribute_condition',
    );
    expect(schema.resource.google_api_gateway_api_config!.provider).toBe('google-beta');
    expect(existsSync(join(FIXTURES, 'provider-schema.json'))).toBe(true);
  });
});

function hasTf(dir: string): boolean {
  return readdirSync(dir).some(
    (e) => e.endsWith('.tf') || (statSync(join(dir, e)).isDirectory() && hasTf(join(dir, e))),
  );
}
