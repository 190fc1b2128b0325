import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type Body,
  block,
  blocks,
  expr,
  loadModules,
  type Resource,
  resources,
  type TfModule,
  text,
} from '../scripts/infra-hcl.ts';
import { ERROR_CODES } from '../src/core/errors.ts';
import { ROOT } from './helpers/schemas.ts';

let monitoring: TfModule;
let all: Resource[];
let locals: Body;

beforeAll(async () => {
  const found = (await loadModules('infra')).find((m) => m.dir === 'infra/modules/monitoring');
  if (!found) throw new Error('infra/modules/monitoring not found');
  monitoring = found;
  all = resources(monitoring);
  locals = Object.assign({}, ...monitoring.files.flatMap((f) => blocks(f.json, 'locals').map(([, b]) => b)));
});

const policies = () => all.filter((r) => r.type === 'google_monitoring_alert_policy');

describe('infra/modules/monitoring', () => {
  it('gives every alert policy documentation with a runbook link into docs/operations.md', () => {
    expect(policies().map((p) => p.name)).toEqual(
      expect.arrayContaining([
        'burn_rate',
        'backlog_age',
        'dead_letter',
        'rejected_spike',
        'warehouse_errors',
        'bytes_billed',
      ]),
    );
    for (const p of policies()) {
      const doc = block(p.body, 'documentation');
      expect(doc, p.name).toBeDefined();
      expect(text(doc?.mime_type), p.name).toBe('text/markdown');
      expect(text(doc?.content), p.name).toMatch(/Runbook: \$\{local\.runbook\}#[a-z0-9${}.()_-]+/);
    }
    expect(text(locals.runbook)).toContain('var.runbook_base_url');
    const base = monitoring.files
      .flatMap((f) => blocks(f.json, 'variable'))
      .find(([n]) => n === 'runbook_base_url');
    expect(text(base?.[1].default)).toMatch(/docs\/operations\.md$/);
  });

  it('uses the SRE Workbook burn-rate scheme: 14.4x 1h+5m and 6x 6h+30m page, 3x 1d+2h ticket', () => {
    expect(locals.burn_rates).toEqual({
      FastBurn: { factor: 14.4, long: '3600s', short: '300s', severity: 'CRITICAL', kind: 'page' },
      MediumBurn: { factor: 6, long: '21600s', short: '1800s', severity: 'CRITICAL', kind: 'page' },
      SlowBurn: { factor: 3, long: '86400s', short: '7200s', severity: 'WARNING', kind: 'ticket' },
    });
    const burn = policies().find((p) => p.name === 'burn_rate');
    expect(text(burn?.body.combiner)).toBe('AND');
    const condition = block(burn!.body, 'conditions');
    const threshold = (condition?.condition_threshold as Body[] | undefined)?.[0] ?? {};
    expect(text(threshold.filter)).toMatch(/^select_slo_burn_rate\(/);
    expect(text(threshold.comparison)).toBe('COMPARISON_GT');
    expect(expr(threshold.threshold_value)).toBe('each.value.factor');
  });

  it('defines the four SLOs over 28 days with their goals', () => {
    const specs = locals.slo_specs as Record<string, { goal: number }>;
    expect(Object.keys(specs).sort()).toEqual([
      'api-availability',
      'api-latency',
      'ingest-correctness',
      'ingest-freshness',
    ]);
    expect(specs['api-availability']!.goal).toBe(0.999);
    expect(specs['api-latency']!.goal).toBe(0.99);
    const slo = all.find((r) => r.type === 'google_monitoring_slo');
    expect(slo?.body.rolling_period_days).toBe(28);
    const latency = monitoring.files
      .flatMap((f) => blocks(f.json, 'variable'))
      .find(([n]) => n === 'api_latency_threshold_ms');
    expect(latency?.[1].default).toBe(250);
  });

  it('counts warehouse failures from the log lines the code writes with code warehouse_unavailable', async () => {
    const metrics = locals.log_metrics as Record<string, { filter: string }>;
    expect(metrics['warehouse-errors']?.filter).toContain('jsonPayload.code="warehouse_unavailable"');
    // The code logs that code on a failed batch and on an API request answered 503.
    const app = readFileSync(join(ROOT, 'src/app.ts'), 'utf8');
    expect(app).toMatch(/code: 'warehouse_unavailable'[^\n]*\n\s*'batch write failed/);
    expect(ERROR_CODES.warehouse_unavailable.status).toBe(503);
  });

  it('counts only consumer traffic (/v1/ routes) in the API SLOs, as the Prometheus rules do', () => {
    expect(text(locals.v1_routes)).toBe('metric.label.route=starts_with("/v1/")');
    const source = monitoring.files.map((f) => f.text).join('\n');
    const apiFilters = source
      .split('\n')
      .filter((l) => /(service|distribution)_filter\s*=/.test(l) && /api-request/.test(l));
    expect(apiFilters).toHaveLength(3);
    for (const l of apiFilters) expect(l).toContain('AND $' + '{local.v1_routes}');
  });

  it('is created once per env root with every system', async () => {
    for (const env of ['dev', 'prod']) {
      const root = (await loadModules(`infra/envs/${env}`)).find((m) => m.dir === `infra/envs/${env}`)!;
      const uses = root.files
        .flatMap((f) => blocks(f.json, 'module'))
        .filter(([, b]) => text(b.source).endsWith('modules/monitoring'));
      expect(uses, env).toHaveLength(1);
      expect(uses[0]![1].for_each, env).toBeUndefined();
    }
  });
});
