import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from '../support/root.ts';

const RULES = join(ROOT, 'observability/prometheus/rules.yml');
const RULE_TESTS = join(ROOT, 'observability/prometheus/rules.test.yml');
const BROKEN = join(ROOT, 'test/fixtures/prometheus/broken.test.yml');

const promtool = (...args: string[]) => spawnSync('promtool', args, { encoding: 'utf8', timeout: 60_000 });
const hasPromtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;
if (!hasPromtool) {
  console.warn(
    'prometheus-rules: promtool is not on PATH, so the Prometheus rules are not checked (install Debian\'s "prometheus" package; .ci/run does when it can)',
  );
}

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const groups = (parse(readFileSync(RULES, 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups;
const alerts = groups.flatMap((g) => g.rules).filter((r) => r.alert);

describe('Prometheus rules (static)', () => {
  it('give every alert a severity, a summary and a runbook anchor named after it', () => {
    expect(alerts.length).toBeGreaterThanOrEqual(6);
    for (const a of alerts) {
      expect(a.labels?.severity, a.alert).toMatch(/^(page|ticket)$/);
      expect(a.annotations?.summary, a.alert).toBeTruthy();
      expect(a.annotations?.runbook_url, a.alert).toBe(`docs/operations.md#${a.alert!.toLowerCase()}`);
    }
  });

  it('page at 14.4x (1h, 5m) and 6x (6h, 30m), ticket at 3x (1d, 2h) of the 99.9% budget', () => {
    const burn = (name: string) => alerts.find((a) => a.alert === name)!;
    const cases: Array<[string, string, string, string, string]> = [
      ['DuctoApiAvailabilityFastBurn', 'page', '14.4', '1h', '5m'],
      ['DuctoApiAvailabilityMediumBurn', 'page', '6', '6h', '30m'],
      ['DuctoApiAvailabilitySlowBurn', 'ticket', '3', '1d', '2h'],
    ];
    for (const [name, severity, factor, long, short] of cases) {
      const a = burn(name);
      expect(a.labels?.severity).toBe(severity);
      expect(a.expr).toContain(`ducto:api_errors:ratio_rate${long} > (${factor} * 0.001)`);
      expect(a.expr).toContain(`and ducto:api_errors:ratio_rate${short} > (${factor} * 0.001)`);
    }
  });

  it('every alert is exercised by the promtool unit tests', () => {
    const tests = readFileSync(RULE_TESTS, 'utf8');
    for (const a of alerts) expect(tests, a.alert).toContain(`alertname: ${a.alert}`);
  });
});

describe.skipIf(!hasPromtool)('Prometheus rules (promtool)', () => {
  it('pass `promtool check rules`', () => {
    const r = promtool('check', 'rules', RULES);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('pass `promtool test rules`: each alert fires where it should and stays quiet elsewhere', () => {
    const r = promtool('test', 'rules', RULE_TESTS);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('SUCCESS');
  });

  it('fail `promtool test rules` on a fixture with a wrong expectation', () => {
    const r = promtool('test', 'rules', BROKEN);
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/FAILED[\s\S]*alertname: DuctoFreshnessStale/);
  });
});
