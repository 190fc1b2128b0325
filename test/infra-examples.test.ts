import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Body, blocks, expr, parseFile } from '../scripts/infra-hcl.ts';
import { loadSchemas } from '../src/core/schema-files.ts';
import { ROOT } from './helpers/schemas.ts';

const datasets = new Set(loadSchemas(join(ROOT, 'schemas')).keys());

async function rootVariables(dir: string): Promise<Map<string, Body>> {
  const f = await parseFile(join(ROOT, dir, 'variables.tf'));
  return new Map(blocks(f.json, 'variable'));
}

async function tfvars(path: string): Promise<Body> {
  return (await parseFile(join(ROOT, path))).json;
}

/** The attribute names of the object type of `systems`, as declared in the root. */
function systemAttributes(systems: Body): string[] {
  const type = expr(systems.type);
  return [...type.matchAll(/^ {4}(\w+)\s*=/gm)].map((m) => m[1]!);
}

async function systemNamePattern(): Promise<RegExp> {
  const f = await parseFile(join(ROOT, 'infra/modules/system/variables.tf'));
  const name = new Map(blocks(f.json, 'variable')).get('name')!;
  const condition = blocks(name, 'validation').map(([, b]) => String(b.condition))[0]!;
  return new RegExp(/regex\("([^"]+)"/.exec(condition)![1]!);
}

describe.each(['dev', 'prod'])('infra/envs/%s examples', (env) => {
  const dir = `infra/envs/${env}`;

  it.each(['one-system.tfvars', 'several-systems.tfvars'])(
    '%s sets only declared variables, all required ones, valid systems',
    async (file) => {
      const vars = await rootVariables(dir);
      const values = await tfvars(`${dir}/${file}`);
      for (const k of Object.keys(values))
        expect(vars.has(k), `${file}: ${k} is not a variable of ${dir}`).toBe(true);
      for (const [name, body] of vars)
        if (!('default' in body)) expect(values, `${file} lacks ${name}`).toHaveProperty(name);

      const systems = values.systems as Record<string, Body>;
      const allowed = systemAttributes(vars.get('systems')!);
      expect(allowed).toEqual(
        expect.arrayContaining(['datasets', 'compute', 'api', 'ingest', 'container_image']),
      );
      const pattern = await systemNamePattern();
      for (const [name, system] of Object.entries(systems)) {
        expect(name, `${file}: system name`).toMatch(pattern);
        for (const k of Object.keys(system)) expect(allowed, `${file}: ${name}.${k}`).toContain(k);
        for (const d of (system.datasets as string[] | undefined) ?? [])
          expect(datasets, `${file}: ${name}`).toContain(d);
        if (system.compute === 'cloud-run') expect(system.container_image, `${file}: ${name}`).toBeTruthy();
      }
      if (file === 'one-system.tfvars') {
        expect(Object.values(systems)).toHaveLength(1);
        expect(Object.values(systems)[0]!.datasets).toHaveLength(1);
      } else {
        expect(Object.keys(systems).length).toBeGreaterThan(1);
        expect(Object.values(systems).some((s) => s.compute === 'cloud-run')).toBe(true);
      }
    },
  );
});

describe('infra/bootstrap examples', () => {
  it.each(['dev.tfvars', 'prod.tfvars'])(
    '%s sets the required variables and a numeric repository id',
    async (file) => {
      const vars = await rootVariables('infra/bootstrap');
      const values = await tfvars(`infra/bootstrap/${file}`);
      for (const k of Object.keys(values)) expect(vars.has(k), k).toBe(true);
      for (const [name, body] of vars) if (!('default' in body)) expect(values, name).toHaveProperty(name);
      expect(values.github_repository_id).toMatch(/^\d+$/);
      expect(values.env).toBe(file.replace('.tfvars', ''));
    },
  );
});

describe('env roots', () => {
  it('dev and prod are the same code, apart from the env name, the state prefix and deletion protection', () => {
    for (const f of ['main.tf', 'variables.tf', 'outputs.tf', 'versions.tf']) {
      const dev = readFileSync(join(ROOT, 'infra/envs/dev', f), 'utf8');
      const prod = readFileSync(join(ROOT, 'infra/envs/prod', f), 'utf8');
      const asDev = prod
        .replace('env       = "prod"', 'env       = "dev"')
        .replace('prefix = "ducto/prod"', 'prefix = "ducto/dev"')
        .replace('deletion_protection       = true', 'deletion_protection       = false');
      expect(asDev, f).toBe(dev);
    }
    expect(readFileSync(join(ROOT, 'infra/envs/prod/main.tf'), 'utf8')).toContain(
      'deletion_protection       = true',
    );
  });
});

describe('the environment the services get', () => {
  it('is what src/config.ts reads', () => {
    const system = readFileSync(join(ROOT, 'infra/modules/system/main.tf'), 'utf8');
    const block = /environment = \{([\s\S]*?)\n {2}\}/.exec(system)![1]!;
    const set = [
      ...block.matchAll(/^\s+([A-Z][A-Z0-9_]+)\s*=/gm),
      ...system.matchAll(/^\s+(DUCTO_[A-Z0-9_]+) = \{/gm),
    ].map((m) => m[1]!);
    expect(set).toEqual(
      expect.arrayContaining(['DUCTO_WAREHOUSE', 'DUCTO_BQ_DATASET', 'DUCTO_CURSOR_SECRET']),
    );
    const config = readFileSync(join(ROOT, 'src/config.ts'), 'utf8');
    const read = new Set([...config.matchAll(/env(?:\.|, ')([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]!));
    for (const name of set) expect(read, `${name} is set by infra/modules/system`).toContain(name);
  });
});
