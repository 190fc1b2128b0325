import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readmePath, renderReadme, unpadTables } from '../scripts/infra-docs.ts';
import { INFRA_DIR, loadModules, type TfModule } from '../scripts/infra-hcl.ts';

let modules: TfModule[];

beforeAll(async () => {
  modules = await loadModules(INFRA_DIR);
});

describe('infra docs', () => {
  it('every module and root has main.tf, variables.tf, outputs.tf, versions.tf and a README', () => {
    expect(modules.length).toBeGreaterThan(10);
    for (const m of modules) {
      for (const f of ['main.tf', 'variables.tf', 'outputs.tf', 'versions.tf', 'README.md']) {
        expect(existsSync(join(m.dir, f)), `${m.dir}/${f}`).toBe(true);
      }
    }
  });

  it('every README lists exactly the variables and outputs of its module (npm run infra:docs)', () => {
    for (const m of modules) {
      const current = readFileSync(readmePath(m), 'utf8');
      expect(unpadTables(current), `${readmePath(m)} is out of date: npm run infra:docs`).toBe(
        unpadTables(renderReadme(m, current)),
      );
    }
  });

  it('a README table changes when a variable does', () => {
    const m = modules.find((x) => x.dir === 'infra/modules/pubsub-dataset')!;
    const current = readFileSync(readmePath(m), 'utf8');
    const edited: TfModule = {
      ...m,
      files: m.files.map((f) =>
        f.path.endsWith('variables.tf')
          ? {
              ...f,
              json: {
                variable: {
                  ...(f.json.variable as object),
                  extra: [{ description: 'New.', type: `\${string}` }],
                },
              },
            }
          : f,
      ),
    };
    expect(unpadTables(renderReadme(edited, current))).not.toBe(unpadTables(current));
    expect(renderReadme(edited, current)).toContain('| `extra` | New. | `string` | ✓ |  |');
  });

  it('infra/README.md covers the layout, the bootstrap, the first apply, the front door and the lock file', () => {
    const readme = readFileSync('infra/README.md', 'utf8');
    for (const heading of ['## Layout', '## Bootstrap', '## First apply', '## Front door', '## Checks']) {
      expect(readme).toContain(heading);
    }
    expect(readme).toContain('.terraform.lock.hcl');
    for (const m of modules) expect(readme, m.dir).toContain(m.dir.replace(/^infra\//, ''));
  });
});
