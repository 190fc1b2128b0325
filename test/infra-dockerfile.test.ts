import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/root.ts';

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));
const stages = instructions.reduce<string[][]>((acc, l) => {
  if (/^FROM\s/i.test(l)) acc.push([]);
  acc.at(-1)?.push(l);
  return acc;
}, []);
const final = stages.at(-1) ?? [];
const entrypoint = JSON.parse(
  final.find((l) => l.startsWith('ENTRYPOINT'))!.slice('ENTRYPOINT'.length),
) as string[];

describe('Dockerfile', () => {
  it('builds in one stage and runs from a clean one', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(stages[0]![0]).toMatch(/ AS build$/i);
    expect(final.some((l) => /^COPY --from=build /.test(l))).toBe(true);
    expect(final.some((l) => /npm (ci|install)/.test(l))).toBe(false);
  });

  it('uses node:24-slim or distroless, and runs as a non-root user', () => {
    const image = /^ARG NODE_IMAGE=(\S+)/m.exec(dockerfile)?.[1];
    expect(image).toMatch(/^(node:24-slim|gcr\.io\/distroless\/nodejs24)/);
    const user = final.filter((l) => l.startsWith('USER ')).at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^USER (root|0)(:|$)/);
  });

  it('listens on $PORT on all interfaces, and takes the entry point (api or ingest) as its argument', () => {
    expect(final.some((l) => /^ENV .*\bHOST=0\.0\.0\.0\b/.test(l))).toBe(true);
    expect(final.some((l) => /^ENV .*\bPORT=8080\b/.test(l))).toBe(true);
    expect(entrypoint.slice(0, 1)).toEqual(['node']);
    expect(final.find((l) => l.startsWith('CMD'))).toBe('CMD ["api"]');
    const module = readFileSync(join(ROOT, 'infra/modules/cloud-run-service/main.tf'), 'utf8');
    expect(module).toContain('args  = [var.entry_point]');
  });

  it('keeps the build context to what the build copies', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const p of ['node_modules', '.git', 'data', 'dist', 'infra', 'test']) expect(ignored).toContain(p);
    for (const copied of [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.build.json',
      'src',
      'schemas',
    ]) {
      expect(ignored, copied).not.toContain(copied);
      expect(existsSync(join(ROOT, copied)), copied).toBe(true);
    }
  });

  // The standalone entry (one handler on $PORT, BigQuery warehouse) is added with the server code.
  const script = entrypoint[1]!;
  const source = join(ROOT, script.replace(/^dist\//, 'src/').replace(/\.js$/, '.ts'));
  if (!existsSync(source))
    console.log(`infra-dockerfile: entry check skipped, ${script} has no source ${source} yet`);
  it.skipIf(!existsSync(source))(`runs a script the build produces (${script})`, () => {
    expect(readFileSync(source, 'utf8')).toMatch(/\bapi\b[\s\S]*\bingest\b|\bingest\b[\s\S]*\bapi\b/);
  });
});
