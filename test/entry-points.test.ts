/**
 * Every entry point lives in src/entry/, and everything that starts one names it by the path the build
 * gives it: the image's ENTRYPOINT, package.json's `main` (what the functions framework loads), the
 * `ducto` launcher, the Terraform function module and the docs. A file moved without its callers fails
 * here rather than at the first deploy.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

const build = JSON.parse(read('tsconfig.build.json')) as {
  compilerOptions: { rootDir: string; outDir: string };
};
const { rootDir, outDir } = build.compilerOptions;

/** The source file a built path comes from, by tsconfig.build.json's rootDir → outDir mapping. */
function sourceOf(built: string): string {
  expect(built.startsWith(`${outDir}/`), `${built} is under ${outDir}/`).toBe(true);
  return `${rootDir}/${built.slice(outDir.length + 1).replace(/\.js$/, '.ts')}`;
}

const entryFiles = readdirSync(join(ROOT, 'src/entry')).filter((f) => f.endsWith('.ts'));

const dockerEntry = (): string => {
  const m = /^ENTRYPOINT \["node", "([^"]+)"\]$/m.exec(read('Dockerfile'));
  expect(m, 'Dockerfile has an exec-form node ENTRYPOINT').not.toBeNull();
  return m?.[1] ?? '';
};
const packageMain = (): string => (JSON.parse(read('package.json')) as { main: string }).main;
const launcher = (): { source: string; built: string } => {
  const text = read('bin/ducto.mjs');
  const urls = [...text.matchAll(/new URL\('\.\.\/([^']+)', import\.meta\.url\)/g)].map(
    (m) => m[1] as string,
  );
  const source = urls.find((u) => u.endsWith('.ts'));
  const built = urls.find((u) => u.endsWith('.js'));
  expect(source && built, 'bin/ducto.mjs names a source and a built entry').toBeTruthy();
  return { source: source ?? '', built: built ?? '' };
};

describe('entry points', () => {
  it('each starter names a file of src/entry/ by its built path, and every file there is started', () => {
    const started = [sourceOf(dockerEntry()), sourceOf(packageMain()), launcher().source];
    for (const source of started) {
      expect(source.startsWith('src/entry/'), `${source} is in src/entry/`).toBe(true);
      expect(existsSync(join(ROOT, source)), `${source} exists`).toBe(true);
    }
    expect(sourceOf(launcher().built)).toBe(launcher().source);
    expect(started.map((s) => s.slice('src/entry/'.length)).sort()).toEqual([...entryFiles].sort());
  });

  it('the functions module registers exactly the entry points the Terraform module accepts', () => {
    const registered = [
      ...read(sourceOf(packageMain())).matchAll(/ff\.(?:http|cloudEvent)\('([a-z]+)'/g),
    ].map((m) => m[1]);
    const variables = read('infra/modules/function/variables.tf');
    const accepted = /contains\(\[([^\]]+)\], var\.entry_point\)/.exec(variables)?.[1] ?? '';
    expect(registered.sort()).toEqual([...accepted.matchAll(/"([a-z]+)"/g)].map((m) => m[1]).sort());
    expect(variables).toContain(sourceOf(packageMain()));
  });

  it('the docs start the image and the functions by the paths the build produces', () => {
    const docs = ['README.md', 'infra/README.md', 'infra/modules/function/README.md', 'docs/reliability.md']
      .map(read)
      .join('\n');
    const named = new Set([...docs.matchAll(/\bdist\/[\w/.-]+\.js\b/g)].map((m) => m[0]));
    expect(named.size).toBeGreaterThan(0);
    for (const path of named) expect([dockerEntry(), packageMain(), launcher().built]).toContain(path);
    expect(named).toContain(dockerEntry());
    expect(named).toContain(packageMain());
  });
});
