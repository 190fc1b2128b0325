import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GATEWAY_DIR, gatewayFiles } from '../scripts/infra-gateway-spec.ts';
import { loadSchemas } from '../src/core/schema-files.ts';
import { ROOT } from '../support/root.ts';

describe('infra/gateway', () => {
  const files = gatewayFiles(loadSchemas(join(ROOT, 'schemas')).values());

  it('holds what src/core/derive/swagger2.ts derives from schemas/ (npm run infra:gateway)', () => {
    for (const [path, value] of files) {
      const committed = JSON.parse(readFileSync(join(ROOT, path), 'utf8'));
      expect(committed, `${path} is out of date: npm run infra:gateway`).toEqual(
        JSON.parse(JSON.stringify(value)),
      );
    }
  });

  it('has a paths file for each schema and no other', () => {
    const committed = readdirSync(join(ROOT, GATEWAY_DIR, 'datasets')).map(
      (f) => `${GATEWAY_DIR}/datasets/${f}`,
    );
    expect(committed.sort()).toEqual([...files.keys()].filter((p) => p.includes('/datasets/')).sort());
  });

  it('splits the document: the base has no dataset route, each dataset file only its own', () => {
    const base = files.get(`${GATEWAY_DIR}/base.json`) as { paths: Record<string, unknown> };
    expect(Object.keys(base.paths).some((p) => p.startsWith('/v1/'))).toBe(false);
    for (const [path, value] of files) {
      if (!path.includes('/datasets/')) continue;
      const name = path.slice(path.lastIndexOf('/') + 1, -'.json'.length);
      for (const route of Object.keys(value as object))
        expect(route.startsWith(`/v1/${name}`), route).toBe(true);
    }
  });
});
