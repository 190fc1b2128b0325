/**
 * Writes test/fixtures/infra/provider-schema.json: the arguments and nested blocks of every resource
 * and data source type ducto's Terraform uses, taken from the terraform-cdk provider bindings, so
 * `npm test` catches a misspelled argument offline instead of `terraform validate` in CI.
 *
 * The bindings are 300+ MB per provider, too much to install for a list of names, so this packs
 * them with npm into a temporary directory, reads the few files it needs and deletes the rest.
 *
 *   npm run infra:schema        # after using a new resource type or moving a provider pin
 *
 * The provider versions below must equal the pins in infra/envs/* (a test checks it); moving a
 * pin means changing PACKAGES to the binding release built from that provider version
 * (`npm view @cdktf/provider-google@<v> cdktf.provider.version`).
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INFRA_DIR, loadModules, type ResourceKind, resources } from './infra-hcl.ts';

export const SCHEMA_FILE = 'test/fixtures/infra/provider-schema.json';
const FIXTURES_DIR = 'test/fixtures/infra';

/** Provider name → the binding package built from the pinned provider version. */
const PACKAGES: Record<string, { npm: string; version: string; prefix: string }> = {
  google: { npm: '@cdktf/provider-google@16.12.1', version: '6.50.0', prefix: '' },
  'google-beta': { npm: '@cdktf/provider-google-beta@16.12.1', version: '6.50.0', prefix: 'google-' },
  archive: { npm: '@cdktf/provider-archive@11.0.1', version: '2.7.1', prefix: '' },
  random: { npm: '@cdktf/provider-random@12.0.1', version: '3.7.2', prefix: '' },
  time: { npm: '@cdktf/provider-time@11.0.1', version: '0.13.1', prefix: '' },
};

export interface SchemaNode {
  attributes: string[];
  required: string[];
  blocks: Record<string, SchemaNode>;
}

export interface ProviderSchema {
  providers: Record<string, { version: string; npm: string }>;
  resource: Record<string, SchemaNode & { provider: string }>;
  data: Record<string, SchemaNode & { provider: string }>;
  /**
   * Ephemeral resources, from the managed resource of the same type: terraform-cdk has no bindings
   * for them, and the ones used here (random_password) take the same arguments.
   */
  ephemeral: Record<string, SchemaNode & { provider: string }>;
}

interface Entry {
  name: string;
  block: boolean;
  /** The nested struct's `…ToHclTerraform` function, for blocks and typed objects. */
  nested: string | null;
  camel: string | null;
}

// One attribute inside `synthesizeHclAttributes()` or a `…ToHclTerraform(struct)` function:
//   push_endpoint: { value: cdktf.stringToHclTerraform(struct.pushEndpoint), isBlock: false, …
const ENTRY = /^\s{8,16}(\w+): \{\n\s+value: (.*),\n\s+isBlock: (true|false),/gm;

function entries(body: string): Entry[] {
  return [...body.matchAll(ENTRY)].map((m) => {
    const value = m[2]!;
    const nested = /(?<!cdktf\.)\b([a-z]\w*ToHclTerraform)\b/.exec(value)?.[1] ?? null;
    const camel = /(?:struct\.|this\._)(\w+)/.exec(value)?.[1] ?? null;
    return { name: m[1]!, block: m[3] === 'true', nested, camel };
  });
}

/** The body of a top-level function or method starting at `start` (until the brace that closes it). */
function bodyAt(source: string, start: number): string {
  let depth = 0;
  for (let i = source.indexOf('{', start); i < source.length; i++) {
    if (source[i] === '{') depth++;
    else if (source[i] === '}' && --depth === 0) return source.slice(start, i + 1);
  }
  throw new Error('unbalanced braces');
}

/** Interface name → its required (non-optional) camelCase properties, from the `.d.ts`. */
function requiredProps(dts: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const m of dts.matchAll(/export interface (\w+)(?: extends [\w.]+)? \{([\s\S]*?)\n\}/g)) {
    const props = [...m[2]!.matchAll(/^\s+readonly (\w+): /gm)].map((p) => p[1]!);
    out.set(m[1]!, new Set(props));
  }
  return out;
}

export function extract(js: string, dts: string): SchemaNode {
  const functions = new Map<string, string>();
  for (const m of js.matchAll(/^function (\w+ToHclTerraform)\(struct\) \{/gm)) {
    functions.set(m[1]!, bodyAt(js, m.index));
  }
  const required = requiredProps(dts);
  const resourceClass = /^class (\w+) extends cdktf\.Terraform(?:Resource|DataSource) \{/m.exec(js);
  if (!resourceClass) throw new Error('no resource class');
  const synth = js.indexOf('synthesizeHclAttributes() {', resourceClass.index);
  const node = (body: string, iface: string | undefined): SchemaNode => {
    const req = (iface && required.get(iface)) || new Set<string>();
    const out: SchemaNode = { attributes: [], required: [], blocks: {} };
    for (const e of entries(body)) {
      if (e.camel !== null && req.has(e.camel)) out.required.push(e.name);
      const fn = e.nested && functions.get(e.nested);
      if (e.block && fn) {
        // `fooBarToHclTerraform` builds the struct interface `FooBar`.
        const name = e.nested!.replace(/ToHclTerraform$/, '');
        out.blocks[e.name] = node(fn, name[0]!.toUpperCase() + name.slice(1));
      } else {
        out.attributes.push(e.name);
      }
    }
    out.attributes.sort();
    out.required.sort();
    return out;
  };
  return node(bodyAt(js, synth), `${resourceClass[1]}Config`);
}

function pack(npmSpec: string, into: string): string {
  execFileSync('npm', ['pack', npmSpec, '--silent', '--pack-destination', into], { stdio: 'pipe' });
  const tgz = readdirSync(into).find((f) => f.endsWith('.tgz'));
  if (!tgz) throw new Error(`npm pack ${npmSpec} wrote nothing`);
  return join(into, tgz);
}

/**
 * The binding directory of a type: resources drop the provider name (`google_pubsub_topic` →
 * `pubsub-topic`, `random_password` → `password`; the beta bindings prefix `google-`), data sources
 * keep it (`data-google-project`). Ephemeral resources read the managed resource's bindings.
 */
function bindingDir(kind: ResourceKind, type: string, prefix: string): string {
  const kebab = type.replace(/_/g, '-');
  if (kind === 'data') return `data-${kebab}`;
  return prefix + kebab.slice(kebab.indexOf('-') + 1);
}

async function usedTypes(): Promise<Map<string, ResourceKind>> {
  const used = new Map<string, ResourceKind>();
  const dirs = [INFRA_DIR, FIXTURES_DIR].filter((d) => existsSync(d));
  const modules = (await Promise.all(dirs.map((d) => loadModules(d)))).flat();
  for (const m of modules) for (const r of resources(m)) used.set(`${r.kind}.${r.type}`, r.kind);
  return used;
}

/** Provider of a type as written: `google_…` is google unless only the beta bindings have it. */
function providerOf(type: string): string {
  return type.split('_')[0]!;
}

async function main(): Promise<void> {
  const used = await usedTypes();
  const work = mkdtempSync(join(tmpdir(), 'ducto-provider-schema-'));
  const out: ProviderSchema = {
    providers: Object.fromEntries(
      Object.entries(PACKAGES).map(([name, p]) => [name, { version: p.version, npm: p.npm }]),
    ),
    resource: {},
    data: {},
    ephemeral: {},
  };
  try {
    const unpacked = new Map<string, string>();
    const unpack = (provider: string): string => {
      const known = unpacked.get(provider);
      if (known) return known;
      const pkg = PACKAGES[provider]!;
      const dir = join(work, provider);
      mkdirSync(dir, { recursive: true });
      const tgz = pack(pkg.npm, dir);
      // Only the bindings' `lib/*/index.{js,d.ts}` are read; extracting them all still takes seconds.
      execFileSync('tar', [
        'xzf',
        tgz,
        '-C',
        dir,
        '--wildcards',
        'package/lib/*/index.js',
        'package/lib/*/index.d.ts',
      ]);
      rmSync(tgz);
      unpacked.set(provider, dir);
      return dir;
    };
    for (const [key, kind] of [...used].sort()) {
      const type = key.slice(kind.length + 1);
      const base = providerOf(type);
      const candidates = base === 'google' ? ['google', 'google-beta'] : [base];
      let found = false;
      for (const provider of candidates) {
        const pkg = PACKAGES[provider];
        if (!pkg) throw new Error(`no bindings package for provider ${provider} (${type})`);
        const dir = join(unpack(provider), 'package/lib', bindingDir(kind, type, pkg.prefix));
        if (!existsSync(join(dir, 'index.js'))) continue;
        const js = readFileSync(join(dir, 'index.js'), 'utf8');
        if (!js.includes(`.tfResourceType = "${type}"`)) continue;
        out[kind][type] = { provider, ...extract(js, readFileSync(join(dir, 'index.d.ts'), 'utf8')) };
        found = true;
        break;
      }
      if (!found) throw new Error(`${kind} ${type} is in no provider binding (${candidates.join(', ')})`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  writeFileSync(SCHEMA_FILE, `${JSON.stringify(out, null, 1)}\n`);
  process.stdout.write(
    `wrote ${SCHEMA_FILE}: ${Object.keys(out.resource).length} resources, ${Object.keys(out.data).length} data sources\n`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
