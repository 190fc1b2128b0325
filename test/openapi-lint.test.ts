/**
 * The OpenAPI document the API serves, linted by Redocly's CLI with its recommended rules: no error,
 * no warning (redocly.yaml; the two ignored locations carry their reason in .redocly.lint-ignore.yaml).
 * Its API key matches the Swagger 2.0 document API Gateway enforces, both derived from one source.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, DOCS_ROUTES, PUBLIC_ROUTES } from '../src/core/derive/api-contract.ts';
import { gatewaySpec } from '../src/core/derive/swagger2.ts';
import { ROOT } from '../support/root.ts';
import { createHarness, type Harness } from './helpers/api-harness.ts';

let h: Harness;
let served: Record<string, any>;
const dir = mkdtempSync(join(tmpdir(), 'ducto-openapi-'));
beforeAll(async () => {
  h = await createHarness({ env: { DUCTO_PUBLIC_URL: 'https://api.example.org' } });
  served = (await h.request('/openapi.json')).json();
});
afterAll(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

function lint(doc: unknown): Promise<{ code: number; output: string }> {
  writeFileSync(join(dir, 'openapi.json'), JSON.stringify(doc, null, 2));
  copyFileSync(join(ROOT, 'redocly.yaml'), join(dir, 'redocly.yaml'));
  copyFileSync(join(ROOT, '.redocly.lint-ignore.yaml'), join(dir, '.redocly.lint-ignore.yaml'));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'node_modules/@redocly/cli/bin/cli.js'), 'lint', 'openapi.json', '--format', 'json'],
      {
        cwd: dir,
        env: {
          ...process.env,
          REDOCLY_TELEMETRY: 'off',
          REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
          NO_COLOR: '1',
        },
        timeout: 120_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` }),
    );
  });
}

/** The problems of a `redocly lint --format json` run, as `severity rule location`. */
function problems(output: string): string[] {
  const start = output.indexOf('{');
  const report = JSON.parse(output.slice(start, output.lastIndexOf('}') + 1)) as {
    problems: Array<{
      ruleId: string;
      severity: string;
      location: Array<{ pointer: string }>;
      ignored?: boolean;
    }>;
  };
  return report.problems
    .filter((p) => !p.ignored)
    .map((p) => `${p.severity} ${p.ruleId} ${p.location[0]?.pointer ?? ''}`);
}

describe('the served OpenAPI document', () => {
  it('passes redocly lint with the recommended rules: 0 errors, 0 warnings', async () => {
    const { output } = await lint(served);
    expect(problems(output)).toEqual([]);
  }, 120_000);

  it('the linter does catch what it was asked to: a document without security or servers fails', async () => {
    const { security: _s, servers: _v, ...bare } = served;
    const found = problems((await lint(bare)).output);
    expect(found.some((p) => p.startsWith('error security-defined'))).toBe(true);
    expect(found.some((p) => p.includes('no-empty-servers'))).toBe(true);
  }, 120_000);

  it('describes the API as a consumer reaches it: servers from DUCTO_PUBLIC_URL, license, contact', () => {
    expect(served.servers).toEqual([{ url: 'https://api.example.org', description: expect.any(String) }]);
    expect(served.info.license.name).toBe('Apache-2.0');
    expect(served.info.contact.name).toBeTruthy();
  });

  it('declares the API key exactly as the gateway enforces it, on the same routes', () => {
    const gateway = gatewaySpec(h.schemas.values(), {
      title: 't',
      version: 'v',
      backendUrl: 'https://backend.example',
    }) as Record<string, any>;
    const scheme = served.components.securitySchemes[API_KEY.scheme];
    const definition = gateway.securityDefinitions[API_KEY.scheme];
    expect([scheme.type, scheme.in, scheme.name]).toEqual([definition.type, definition.in, definition.name]);
    expect(served.security).toEqual(gateway.security);
    const open = (paths: Record<string, any>) =>
      Object.entries(paths)
        .filter(([, p]) => Array.isArray(p.get.security) && p.get.security.length === 0)
        .map(([path]) => path)
        .sort();
    expect(open(served.paths)).toEqual([...PUBLIC_ROUTES].sort());
    expect(open(gateway.paths)).toEqual([...PUBLIC_ROUTES, ...DOCS_ROUTES].sort());
    expect(Object.keys(served.paths).sort()).toEqual(
      Object.keys(gateway.paths)
        .filter((p) => !(DOCS_ROUTES as readonly string[]).includes(p))
        .sort(),
    );
  });

  it('lists the 4XX problems of every keyed operation', () => {
    for (const [path, item] of Object.entries(served.paths as Record<string, any>)) {
      if ((PUBLIC_ROUTES as readonly string[]).includes(path)) continue;
      const statuses = Object.keys(item.get.responses);
      expect(statuses, path).toEqual(expect.arrayContaining(['400', '401', '403', '404', '429']));
    }
  });
});
