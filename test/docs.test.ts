import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/core/errors.ts';
import { ROOT } from './helpers/schemas.ts';

describe('docs', () => {
  it('docs/errors.md lists every error code with its status', () => {
    const page = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
    for (const [code, { status }] of Object.entries(ERROR_CODES)) {
      expect(page, code).toMatch(
        new RegExp(`\\|\\s*<a id="${code}"></a>\`${code}\`\\s*\\|\\s*${status}\\s*\\|`),
      );
    }
  });

  it('the README shows the two commands of a fresh machine and every configuration variable readConfig reads', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain('npm ci');
    expect(readme).toContain('npm start');
    expect(readme).toContain('npm test');
    const config = readFileSync(join(ROOT, 'src/config.ts'), 'utf8');
    const vars = new Set([...config.matchAll(/env(?:\.|, ')([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]!));
    expect(vars.size).toBeGreaterThan(10);
    for (const v of vars) expect(readme, `README configuration table lacks ${v}`).toContain(`\`${v}\``);
  });
});

describe('links in the docs', () => {
  const files = execFileSync('git', ['ls-files', '*.md'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((f) => f && !f.startsWith('test/fixtures/'));

  it.each(files)('every relative link in %s resolves to a file in the repository', (file) => {
    const text = readFileSync(join(ROOT, file), 'utf8').replace(/```[\s\S]*?```/g, '');
    const broken: string[] = [];
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1]!;
      if (/^[a-z]+:|^#|^mailto:/i.test(target)) continue;
      const path = target.split('#')[0]!;
      if (!existsSync(resolve(dirname(join(ROOT, file)), decodeURI(path)))) broken.push(target);
    }
    expect(broken).toEqual([]);
  });
});

describe('runbook', () => {
  it('every alert runbook_url points at a section of docs/operations.md', () => {
    const rules = readFileSync(join(ROOT, 'observability/prometheus/rules.yml'), 'utf8');
    const anchors = [...rules.matchAll(/runbook_url: ["']?docs\/operations\.md#([\w-]+)/g)].map((m) => m[1]!);
    expect(anchors.length).toBeGreaterThan(5);
    const page = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8');
    const headings = new Set(
      [...page.matchAll(/^#{2,3} (.+)$/gm)].map((m) =>
        m[1]!
          .trim()
          .toLowerCase()
          .replace(/[^\w\s-]/g, '')
          .replace(/\s+/g, '-'),
      ),
    );
    for (const a of anchors) expect(headings, `docs/operations.md has no section #${a}`).toContain(a);
  });
});

describe('cloud runbook', () => {
  it('every Cloud Monitoring alert of infra/modules/monitoring has a section in docs/operations.md', () => {
    const tf = readFileSync(join(ROOT, 'infra/modules/monitoring/main.tf'), 'utf8');
    const slos = [...tf.matchAll(/alert = "(Ducto\w+)"/g)].map((m) => m[1]!);
    const bursts = [...tf.matchAll(/^\s+(\w+Burn)\s+= \{/gm)].map((m) => m[1]!);
    const direct = [...tf.matchAll(/#(ducto[a-z]+)\b/g)].map((m) => m[1]!);
    const anchors = [
      ...slos.flatMap((a) =>
        (bursts.length ? bursts : ['FastBurn', 'MediumBurn', 'SlowBurn']).map((b) =>
          `${a}${b}`.toLowerCase(),
        ),
      ),
      ...direct,
    ];
    expect(anchors.length).toBeGreaterThan(10);
    const page = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8');
    const headings = new Set([...page.matchAll(/^## (\S+)$/gm)].map((m) => m[1]!.toLowerCase()));
    for (const a of anchors) expect(headings, `docs/operations.md has no section #${a}`).toContain(a);
  });
});
