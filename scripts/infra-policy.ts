/**
 * The rules ducto's Terraform must follow, checked on the parsed HCL (scripts/infra-hcl.ts) with no
 * provider and no cloud. Each rule returns findings; test/infra-policy.test.ts runs them on infra/
 * (no finding allowed) and on a fixture per rule under test/fixtures/infra/<rule>/ (a finding
 * required), so a rule that stops catching what it names fails the suite.
 *
 *   npm run infra:check
 *
 * One concern, kept in one file on purpose: the rule set, each rule a short function beside the others,
 * so a reader sees every rule the Terraform is held to in one place.
 */
import { readFileSync } from 'node:fs';
import {
  type Body,
  block,
  blocks,
  expr,
  INFRA_DIR,
  loadModules,
  type Resource,
  resources,
  type TfModule,
  text,
} from './infra-hcl.ts';
import { type ProviderSchema, SCHEMA_FILE, type SchemaNode } from './infra-provider-schema.ts';

export interface Finding {
  rule: string;
  file: string;
  message: string;
}

export interface Rule {
  id: string;
  description: string;
  check(module: TfModule, schema: ProviderSchema): Array<Omit<Finding, 'rule'>>;
}

export const SUPPORTED_RUNTIMES = ['nodejs22', 'nodejs24'];
const PUBLIC_PRINCIPALS = ['allUsers', 'allAuthenticatedUsers'];
const META_ARGUMENTS = new Set([
  'count',
  'for_each',
  'provider',
  'depends_on',
  'lifecycle',
  'provisioner',
  'connection',
]);

export function loadSchema(): ProviderSchema {
  return JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as ProviderSchema;
}

function variables(module: TfModule): Array<{ name: string; body: Body; file: string }> {
  return module.files.flatMap((f) =>
    blocks(f.json, 'variable').map(([name, body]) => ({ name, body, file: f.path })),
  );
}

function locals(module: TfModule): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of module.files) {
    for (const [, body] of blocks(f.json, 'locals')) {
      for (const [k, v] of Object.entries(body)) out.set(k, text(v));
    }
  }
  return out;
}

function terraformBlocks(module: TfModule): Array<{ body: Body; file: string }> {
  return module.files.flatMap((f) => blocks(f.json, 'terraform').map(([, body]) => ({ body, file: f.path })));
}

/** A root module is one Terraform runs directly: it configures a backend. */
export function isRoot(module: TfModule): boolean {
  return terraformBlocks(module).some(({ body }) => body.backend !== undefined);
}

function where(r: Resource): string {
  return `${r.kind === 'resource' ? '' : `${r.kind}.`}${r.type}.${r.name}`;
}

function isTrue(value: unknown): boolean {
  return value === true || value === 'true';
}

function quoted(s: string): string[] {
  return [...s.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
}

const noPublicPrincipals: Rule = {
  id: 'no-public-principals',
  description: 'No resource, module call or local names allUsers or allAuthenticatedUsers.',
  check: (module) => {
    // Variable validations may name them, to refuse them.
    const granted = [
      ...resources(module).map((r) => ({ file: r.file, at: where(r), body: r.body as unknown })),
      ...module.files.flatMap((f) =>
        [...blocks(f.json, 'module'), ...blocks(f.json, 'locals')].map(([name, body]) => ({
          file: f.path,
          at: name ? `module.${name}` : 'locals',
          body: body as unknown,
        })),
      ),
    ];
    return granted.flatMap(({ file, at, body }) =>
      PUBLIC_PRINCIPALS.filter((p) => JSON.stringify(body).includes(p)).map((p) => ({
        file,
        message: `${at} names ${p}`,
      })),
    );
  },
};

const noServiceAccountKeys: Rule = {
  id: 'no-service-account-keys',
  description: 'No service account key is created or read: CI and services authenticate keylessly.',
  check: (module) =>
    resources(module)
      .filter((r) => r.type === 'google_service_account_key')
      .map((r) => ({ file: r.file, message: `${where(r)} is a service account key` })),
};

/** The service account reference of a compute resource, and whether it is this module's own account. */
const COMPUTE: Record<string, (body: Body) => unknown> = {
  google_cloudfunctions2_function: (b) => block(b, 'service_config')?.service_account_email,
  google_cloud_run_v2_service: (b) => block(b, 'template')?.service_account,
};

const computeOwnServiceAccount: Rule = {
  id: 'compute-own-service-account',
  description:
    'Every function and Cloud Run service runs as a service account created next to it, one per service.',
  check: (module) => {
    const findings: Array<Omit<Finding, 'rule'>> = [];
    const used = new Map<string, string>();
    for (const r of resources(module)) {
      const account = COMPUTE[r.type];
      if (!account) continue;
      const ref = /^google_service_account\.(\w+)\.email$/.exec(expr(account(r.body)));
      if (!ref) {
        findings.push({
          file: r.file,
          message: `${where(r)} does not run as a google_service_account of its module`,
        });
        continue;
      }
      const other = used.get(ref[1]!);
      if (other)
        findings.push({ file: r.file, message: `${where(r)} shares its service account with ${other}` });
      used.set(ref[1]!, where(r));
    }
    return findings;
  },
};

const functionRuntime: Rule = {
  id: 'function-supported-runtime',
  description: `Every function runs a supported Node.js runtime (${SUPPORTED_RUNTIMES.join(', ')}).`,
  check: (module) => {
    const findings: Array<Omit<Finding, 'rule'>> = [];
    const vars = new Map(variables(module).map((v) => [v.name, v.body]));
    for (const r of resources(module).filter((x) => x.type === 'google_cloudfunctions2_function')) {
      const runtime = expr(block(r.body, 'build_config')?.runtime);
      const ref = /^var\.(\w+)$/.exec(runtime);
      if (!ref) {
        if (!SUPPORTED_RUNTIMES.includes(runtime)) {
          findings.push({ file: r.file, message: `${where(r)} runs ${runtime || 'no runtime'}` });
        }
        continue;
      }
      // A variable is accepted when its validation admits supported runtimes only.
      const v = vars.get(ref[1]!);
      const condition = v
        ? blocks(v, 'validation')
            .map(([, b]) => text(b.condition))
            .join(' ')
        : '';
      const admitted = quoted(condition).filter((s) => s.startsWith('nodejs'));
      const fallback = v?.default;
      if (
        admitted.length === 0 ||
        admitted.some((s) => !SUPPORTED_RUNTIMES.includes(s)) ||
        (typeof fallback === 'string' && !SUPPORTED_RUNTIMES.includes(fallback))
      ) {
        findings.push({
          file: r.file,
          message: `${where(r)} takes its runtime from var.${ref[1]}, whose validation does not restrict it to ${SUPPORTED_RUNTIMES.join(', ')}`,
        });
      }
    }
    return findings;
  },
};

const subscriptions: Rule = {
  id: 'subscription-dead-letter-and-oidc',
  description:
    'Every push subscription authenticates with an OIDC token and has a retry and a dead-letter policy; a pull subscription only drains a dead-letter topic.',
  check: (module) => {
    const findings: Array<Omit<Finding, 'rule'>> = [];
    for (const r of resources(module).filter((x) => x.type === 'google_pubsub_subscription')) {
      const push = block(r.body, 'push_config');
      if (!push) {
        if (!text(r.body.topic).includes('dead_letter')) {
          findings.push({
            file: r.file,
            message: `${where(r)} is neither a push subscription nor on a dead-letter topic`,
          });
        }
        continue;
      }
      if (!block(push, 'oidc_token')?.service_account_email) {
        findings.push({ file: r.file, message: `${where(r)} pushes without an OIDC token` });
      }
      if (!block(r.body, 'dead_letter_policy')?.dead_letter_topic) {
        findings.push({ file: r.file, message: `${where(r)} has no dead-letter policy` });
      }
      if (!block(r.body, 'retry_policy')) {
        findings.push({ file: r.file, message: `${where(r)} has no retry policy` });
      }
    }
    return findings;
  },
};

const tablePartitioning: Rule = {
  id: 'table-partition-filter',
  description:
    'Every BigQuery table (views aside) is time-partitioned on a column and requires a partition filter.',
  check: (module) =>
    resources(module)
      .filter(
        (r) =>
          r.type === 'google_bigquery_table' && !block(r.body, 'view') && !block(r.body, 'materialized_view'),
      )
      .flatMap((r) => {
        const partitioning = block(r.body, 'time_partitioning');
        const out: Array<Omit<Finding, 'rule'>> = [];
        if (!partitioning?.field)
          out.push({ file: r.file, message: `${where(r)} is not partitioned on a column` });
        if (!isTrue(r.body.require_partition_filter) && !isTrue(partitioning?.require_partition_filter)) {
          out.push({ file: r.file, message: `${where(r)} does not require a partition filter` });
        }
        return out;
      }),
};

const wifCondition: Rule = {
  id: 'wif-repository-id',
  description:
    'Every workload identity provider has an attribute_condition pinning the repository by its numeric id.',
  check: (module) =>
    resources(module)
      .filter((r) => r.type === 'google_iam_workload_identity_pool_provider')
      .filter((r) => !/assertion\.repository_id\s*==/.test(text(r.body.attribute_condition ?? '')))
      .map((r) => ({
        file: r.file,
        message: `${where(r)} accepts tokens without checking assertion.repository_id`,
      })),
};

const variablesDescribed: Rule = {
  id: 'variables-described',
  description: 'Every variable has a description and a type.',
  check: (module) =>
    variables(module).flatMap((v) => {
      const out: Array<Omit<Finding, 'rule'>> = [];
      if (typeof v.body.description !== 'string' || v.body.description.trim() === '') {
        out.push({ file: v.file, message: `variable ${v.name} has no description` });
      }
      if (v.body.type === undefined) out.push({ file: v.file, message: `variable ${v.name} has no type` });
      return out;
    }),
};

const variablesSorted: Rule = {
  id: 'variables-sorted',
  description: 'Variables are declared in alphabetical order, and maps default to {} rather than null.',
  check: (module) => {
    const out: Array<Omit<Finding, 'rule'>> = [];
    for (const f of module.files) {
      // hcl2json sorts blocks by label, so the order comes from the source.
      const names = [...f.text.matchAll(/^variable\s+"([^"]+)"/gm)].map((m) => m[1]!);
      const sorted = [...names].sort();
      const i = names.findIndex((n, k) => n !== sorted[k]);
      if (i !== -1) out.push({ file: f.path, message: `variable ${names[i]} is out of alphabetical order` });
    }
    for (const v of variables(module)) {
      if (/^\$\{map\(/.test(text(v.body.type)) && 'default' in v.body && v.body.default === null) {
        out.push({ file: v.file, message: `map variable ${v.name} defaults to null instead of {}` });
      }
    }
    return out;
  },
};

function requiredProviders(module: TfModule): Array<{ name: string; spec: Body; file: string }> {
  return terraformBlocks(module).flatMap(({ body, file }) =>
    blocks(body, 'required_providers').flatMap(([, rp]) =>
      Object.entries(rp).map(([name, spec]) => ({ name, spec: spec as Body, file })),
    ),
  );
}

const providersPinned: Rule = {
  id: 'providers-pinned',
  description:
    'Every module declares required_version and each provider it uses with a source and a version: roots pin the exact version the schema check uses, modules a range closed above.',
  check: (module, schema) => {
    const out: Array<Omit<Finding, 'rule'>> = [];
    const tf = terraformBlocks(module);
    const file =
      module.files.find((f) => f.path.endsWith('versions.tf'))?.path ?? `${module.dir}/versions.tf`;
    if (!tf.some(({ body }) => typeof body.required_version === 'string')) {
      out.push({ file, message: 'no required_version' });
    }
    const declared = new Map(requiredProviders(module).map((p) => [p.name, p]));
    const root = isRoot(module);
    for (const [name, { spec, file: f }] of declared) {
      const version = typeof spec.version === 'string' ? spec.version.trim() : '';
      if (typeof spec.source !== 'string') out.push({ file: f, message: `provider ${name} has no source` });
      if (root) {
        const exact = /^=?\s*(\d+\.\d+\.\d+)$/.exec(version)?.[1];
        const expected = schema.providers[name]?.version;
        if (!exact)
          out.push({ file: f, message: `provider ${name} is not pinned to one version ("${version}")` });
        else if (expected && exact !== expected) {
          out.push({
            file: f,
            message: `provider ${name} ${exact} differs from the checked schema's ${expected}`,
          });
        }
      } else if (!/>=\s*\d/.test(version) || !/<\s*\d/.test(version)) {
        out.push({
          file: f,
          message: `provider ${name} version "${version}" is not a range with both bounds`,
        });
      }
    }
    const used = new Set(
      resources(module).map((r) => {
        const explicit = expr(r.body.provider ?? '').split('.')[0];
        return explicit || r.type.split('_')[0]!;
      }),
    );
    for (const name of used) {
      if (!declared.has(name))
        out.push({ file, message: `provider ${name} is used but not in required_providers` });
    }
    return out;
  },
};

function checkNode(
  body: Body,
  node: SchemaNode,
  path: string,
  out: Array<Omit<Finding, 'rule'>>,
  file: string,
): void {
  const present = new Set<string>();
  for (const [key, value] of Object.entries(body)) {
    if (META_ARGUMENTS.has(key)) continue;
    if (key === 'dynamic') {
      const dyn = (Array.isArray(value) ? value : [value]) as Array<Record<string, Body[]>>;
      for (const group of dyn) {
        for (const [name, list] of Object.entries(group)) {
          const nested = node.blocks[name];
          if (!nested) {
            out.push({ file, message: `${path}: dynamic "${name}" is not a block of this resource` });
            continue;
          }
          present.add(name);
          for (const d of list) {
            for (const content of (d.content as Body[] | undefined) ?? []) {
              checkNode(content, nested, `${path}.${name}`, out, file);
            }
          }
        }
      }
      continue;
    }
    present.add(key);
    if (node.blocks[key]) {
      if (!Array.isArray(value)) {
        out.push({ file, message: `${path}.${key} is a block, written as an argument` });
        continue;
      }
      for (const b of value as Body[]) checkNode(b, node.blocks[key], `${path}.${key}`, out, file);
    } else if (!node.attributes.includes(key)) {
      out.push({ file, message: `${path}: unknown argument "${key}"` });
    } else if (
      Array.isArray(value) &&
      value.length > 0 &&
      value.every((v) => v !== null && typeof v === 'object')
    ) {
      // hcl2json gives a block as a list of bodies; the provider's nested data are blocks, not
      // list-of-object arguments, so this is an argument written as a block.
      out.push({ file, message: `${path}.${key} is an argument, written as a block` });
    }
  }
  for (const r of node.required) {
    if (!present.has(r)) out.push({ file, message: `${path}: required "${r}" is missing` });
  }
}

const providerSchema: Rule = {
  id: 'provider-schema',
  description:
    "Every resource, data source and ephemeral resource uses only arguments and blocks of the pinned provider's schema, sets the required ones, and names google-beta where only it has the type.",
  check: (module, schema) => {
    const out: Array<Omit<Finding, 'rule'>> = [];
    for (const r of resources(module)) {
      const node = schema[r.kind][r.type];
      if (!node) {
        out.push({ file: r.file, message: `${where(r)}: type not in ${SCHEMA_FILE} (npm run infra:schema)` });
        continue;
      }
      checkNode(r.body, node, where(r), out, r.file);
      if (node.provider === 'google-beta' && !expr(r.body.provider ?? '').startsWith('google-beta')) {
        out.push({
          file: r.file,
          message: `${where(r)} exists only in google-beta but does not set provider = google-beta`,
        });
      }
    }
    return out;
  },
};

/** Replaces `local.x` with the local's expression text, a few levels deep. */
function resolveLocals(value: string, known: Map<string, string>): string {
  let s = value;
  for (let i = 0; i < 4; i++) s = s.replace(/\blocal\.(\w+)/g, (m, name: string) => known.get(name) ?? m);
  return s;
}

const LABEL_KEYS = ['system', 'env', 'component'];

const labels: Rule = {
  id: 'labels',
  description:
    'Every resource that takes labels sets system, env and component: literally, or through a labels variable whose validation requires them.',
  check: (module, schema) => {
    const out: Array<Omit<Finding, 'rule'>> = [];
    const known = locals(module);
    const labelsVar = variables(module).find((v) => v.name === 'labels');
    const validated = blocks(labelsVar?.body ?? {}, 'validation')
      .map(([, b]) => text(b.condition))
      .join(' ');
    const varOk = LABEL_KEYS.every((k) => validated.includes(`"${k}"`));
    for (const r of resources(module).filter((x) => x.kind === 'resource')) {
      if (!schema.resource[r.type]?.attributes.includes('labels')) continue;
      if (r.body.labels === undefined) {
        out.push({ file: r.file, message: `${where(r)} sets no labels` });
        continue;
      }
      const value = resolveLocals(text(r.body.labels), known);
      const literal = LABEL_KEYS.every((k) => new RegExp(`(?:\\b|")${k}"?\\s*[=:]`).test(value));
      if (!literal && !(value.includes('var.labels') && varOk)) {
        out.push({ file: r.file, message: `${where(r)} labels do not carry ${LABEL_KEYS.join(', ')}` });
      }
    }
    return out;
  },
};

const gcsBackend: Rule = {
  id: 'gcs-backend',
  description:
    'Every root keeps its state in a GCS backend whose bucket is passed at init, not written in code.',
  check: (module) => {
    if (!isRoot(module)) return [];
    return terraformBlocks(module).flatMap(({ body, file }) =>
      blocks(body, 'backend').flatMap(([kind, b]) => {
        if (kind !== 'gcs') return [{ file, message: `backend "${kind}" instead of gcs` }];
        if (b.bucket !== undefined) return [{ file, message: 'the backend bucket is written in code' }];
        if (typeof b.prefix !== 'string') return [{ file, message: 'the backend has no prefix' }];
        return [];
      }),
    );
  },
};

const prodProtection: Rule = {
  id: 'prod-deletion-protection',
  description: 'In the prod root every deletion_protection argument is literally true.',
  check: (module) => {
    if (!/(^|\/)envs\/prod$/.test(module.dir)) return [];
    const out: Array<Omit<Finding, 'rule'>> = [];
    for (const f of module.files) {
      const calls = [
        ...blocks(f.json, 'module'),
        ...resources({ dir: module.dir, files: [f] }).map((r) => [where(r), r.body] as const),
      ];
      for (const [name, body] of calls) {
        if ('deletion_protection' in body && !isTrue(body.deletion_protection)) {
          out.push({
            file: f.path,
            message: `${name || 'module'} sets deletion_protection = ${text(body.deletion_protection)}`,
          });
        }
      }
    }
    return out;
  },
};

export const RULES: Rule[] = [
  noPublicPrincipals,
  noServiceAccountKeys,
  computeOwnServiceAccount,
  functionRuntime,
  subscriptions,
  tablePartitioning,
  wifCondition,
  variablesDescribed,
  variablesSorted,
  providersPinned,
  providerSchema,
  labels,
  gcsBackend,
  prodProtection,
];

export function checkModules(modules: TfModule[], schema: ProviderSchema, rules: Rule[] = RULES): Finding[] {
  return modules.flatMap((m) =>
    rules.flatMap((rule) => rule.check(m, schema).map((f) => ({ rule: rule.id, ...f }))),
  );
}

async function main(): Promise<void> {
  const findings = checkModules(await loadModules(INFRA_DIR), loadSchema());
  for (const f of findings) process.stderr.write(`${f.file}: [${f.rule}] ${f.message}\n`);
  process.stdout.write(`${RULES.length} rules, ${findings.length} findings\n`);
  if (findings.length > 0) process.exitCode = 1;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
