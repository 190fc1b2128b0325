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

  it('burn every SLO budget at 14.4x (1h, 5m), 6x (6h, 30m) and 3x (1d, 2h): pages at the first two unless the SLO only tickets', () => {
    const burn = (name: string) => alerts.find((a) => a.alert === name)!;
    // SLO alert prefix, its recorded error ratio, its error budget, and whether its fast burns page.
    const slos: Array<[string, string, string, boolean]> = [
      ['DuctoApiAvailability', 'ducto:api_errors', '0.001', true],
      ['DuctoApiLatencyCached', 'ducto:api_latency_cached_slow', '0.01', true],
      // An estimated threshold, and a producer's bug: tickets only.
      ['DuctoApiLatencyWarehouse', 'ducto:api_latency_warehouse_slow', '0.05', false],
      ['DuctoIngestCorrectness', 'ducto:ingest_rejected', '0.001', false],
    ];
    const rates: Array<[string, string, string, string]> = [
      ['FastBurn', '14.4', '1h', '5m'],
      ['MediumBurn', '6', '6h', '30m'],
      ['SlowBurn', '3', '1d', '2h'],
    ];
    for (const [slo, ratio, budget, pages] of slos) {
      for (const [b, factor, long, short] of rates) {
        const a = burn(`${slo}${b}`);
        expect(a.labels?.severity, a.alert).toBe(pages && b !== 'SlowBurn' ? 'page' : 'ticket');
        expect(a.expr).toContain(`${ratio}:ratio_rate${long} > (${factor} * ${budget})`);
        expect(a.expr).toContain(`and ${ratio}:ratio_rate${short} > (${factor} * ${budget})`);
      }
    }
    expect(alerts.filter((a) => a.alert!.endsWith('Burn'))).toHaveLength(slos.length * rates.length);
  });

  it('never page on rejected messages: a rejection is a producer bug, and the message is kept', () => {
    const correctness = alerts.filter((a) => /ingest_(rejected|errors)|outcome="rejected"/.test(a.expr));
    expect(correctness.map((a) => a.alert).sort()).toEqual([
      'DuctoIngestCorrectnessFastBurn',
      'DuctoIngestCorrectnessMediumBurn',
      'DuctoIngestCorrectnessSlowBurn',
      'DuctoIngestRejectedSpike',
    ]);
    for (const a of correctness) expect(a.labels?.severity, a.alert).toBe('ticket');
  });

  it('cut the latency SLIs by cache class, never counting answers without one (errors, streams)', () => {
    const records = groups.flatMap((g) => g.rules).filter((r) => r.record?.includes('api_latency_'));
    expect(records.length).toBe(12);
    for (const r of records) {
      const cache = r.record!.includes('cached') ? 'cache="hit"' : 'cache=~"miss|shared"';
      // Both the bucket and the count select the same class of answers.
      expect(r.expr.match(new RegExp(cache.replace(/[|.*?()[\]]/g, '\\$&'), 'g')), r.record).toHaveLength(2);
      expect(r.expr, r.record).not.toContain('none');
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
