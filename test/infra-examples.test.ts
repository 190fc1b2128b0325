import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_REGION, DEPLOY_BRANCH, projectProblem } from '../scripts/deploy-bootstrap.ts';
import { type Body, blocks, expr, parseFile } from '../scripts/infra-hcl.ts';
import { terraformAvailable } from '../scripts/infra-signals.ts';
import { loadSchemas } from '../src/core/schema-files.ts';
import { ROOT } from '../support/root.ts';

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

const PIPELINE = ['project_id', 'region', 'gateway_region', 'container_image'];

describe.each(['dev', 'prod'])('infra/envs/%s examples', (env) => {
  const dir = `infra/envs/${env}`;

  it.each(['one-system.tfvars', 'several-systems.tfvars'])(
    '%s sets only declared variables, all required ones, valid systems',
    async (file) => {
      const vars = await rootVariables(dir);
      const values = await tfvars(`${dir}/${file}`);
      for (const k of Object.keys(values))
        expect(vars.has(k), `${file}: ${k} is not a variable of ${dir}`).toBe(true);
      // The pipeline passes the project, the regions and the image it built; an example names
      // nothing of one project, so nothing in it can be a placeholder to forget.
      for (const [name, body] of vars)
        if (!('default' in body) && !PIPELINE.includes(name))
          expect(values, `${file} lacks ${name}`).toHaveProperty(name);
      for (const name of PIPELINE) expect(values, `${file} sets ${name}`).not.toHaveProperty(name);
      expect(readFileSync(join(ROOT, dir, file), 'utf8')).not.toMatch(
        /^\s*consumers\s*=|@|\.pkg\.dev|000000/m,
      );

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
        // The cloud-run path runs the image the pipeline built for the commit (var.container_image).
        expect(system.container_image, `${file}: ${name}`).toBeUndefined();
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
  it.each(['dev', 'prod'] as const)(
    '%s.tfvars sets the environment and its deploy branch (GitFlow), and nothing npm run deploy:bootstrap passes',
    async (env) => {
      const vars = await rootVariables('infra/bootstrap');
      const values = await tfvars(`infra/bootstrap/${env}.tfvars`);
      for (const k of Object.keys(values)) expect(vars.has(k), k).toBe(true);
      expect(values).toEqual({ env, deploy_branch: DEPLOY_BRANCH[env] });
      const passed = ['project_id', 'region', 'state_bucket', 'github_repository', 'github_repository_id'];
      for (const [name, body] of vars)
        if (!('default' in body)) expect([...Object.keys(values), ...passed], name).toContain(name);
    },
  );

  it('puts the state, the image repository and the services in the same default region', async () => {
    for (const dir of ['infra/bootstrap', 'infra/envs/dev', 'infra/envs/prod']) {
      expect((await rootVariables(dir)).get('region')?.default, dir).toBe(DEFAULT_REGION);
    }
  });
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

describe.skipIf(!terraformAvailable())('project_id validation, evaluated by terraform', () => {
  // A root's variables.tf alone needs no provider: terraform evaluates its validations offline.
  it.each(['infra/bootstrap', 'infra/envs/dev', 'infra/envs/prod'])(
    '%s refuses a placeholder project id and accepts a real-looking one, as deploy:bootstrap does',
    (dir) => {
      const work = mkdtempSync(join(tmpdir(), 'ducto-validation-'));
      try {
        copyFileSync(join(ROOT, dir, 'variables.tf'), join(work, 'variables.tf'));
        const rc = join(work, 'terraformrc');
        writeFileSync(rc, '');
        const env = { ...process.env, CHECKPOINT_DISABLE: '1', TF_CLI_CONFIG_FILE: rc };
        const vars = new Map(
          Object.entries({
            env: 'dev',
            deploy_branch: 'develop',
            state_bucket: 'b',
            github_repository: 'acme/ducto',
            github_repository_id: '1',
            systems: '{ducto = {}}',
          }),
        );
        const accepts = (project: string) => {
          const args = ['plan', '-input=false', '-no-color', `-var=project_id=${project}`];
          const declared = readFileSync(join(work, 'variables.tf'), 'utf8');
          for (const [k, v] of vars) if (declared.includes(`variable "${k}"`)) args.push(`-var=${k}=${v}`);
          const r = spawnSync('terraform', args, { cwd: work, env, encoding: 'utf8' });
          return r.status === 0 ? null : `${r.stdout}${r.stderr}`;
        };
        spawnSync('terraform', ['init', '-input=false'], { cwd: work, env });
        for (const placeholder of ['ducto-dev-000000', 'my-project', 'your-project-id', 'Not_An_Id']) {
          expect(accepts(placeholder), placeholder).toMatch(
            /not a placeholder\s+copied\s+from\s+an\s+example/,
          );
          expect(projectProblem(placeholder), placeholder).not.toBeNull();
        }
        for (const real of ['acme-ducto-dev', 'ducto-prod-4711']) {
          expect(accepts(real), real).toBeNull();
          expect(projectProblem(real), real).toBeNull();
        }
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
    60_000,
  );
});
