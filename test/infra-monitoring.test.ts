/**
 * What infra/modules/monitoring-spec defines and how infra/modules/monitoring creates it: the SRE
 * Workbook burn-rate scheme, the four SLOs, runbook links, the log lines the metrics count, and the
 * order Cloud Monitoring needs (the metrics, their wait, then what reads them). The filters
 * themselves are checked against Google's metric catalogue in test/infra-metrics.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type Body,
  blocks,
  expr,
  loadModules,
  resources,
  type TfModule,
  text,
} from '../scripts/infra-hcl.ts';
import { evaluateSpec, type Spec, terraformAvailable } from '../scripts/infra-signals.ts';
import { ERROR_CODES } from '../src/core/errors.ts';
import { ROOT } from '../support/root.ts';

let spec: TfModule;
let monitoring: TfModule;
let locals: Body;

beforeAll(async () => {
  const modules = await loadModules('infra/modules');
  spec = modules.find((m) => m.dir === 'infra/modules/monitoring-spec')!;
  monitoring = modules.find((m) => m.dir === 'infra/modules/monitoring')!;
  locals = Object.assign({}, ...spec.files.flatMap((f) => blocks(f.json, 'locals').map(([, b]) => b)));
});

describe('infra/modules/monitoring-spec', () => {
  it('uses the SRE Workbook burn-rate scheme: 14.4x 1h+5m and 6x 6h+30m page, 3x 1d+2h ticket', () => {
    expect(locals.burn_rates).toEqual({
      FastBurn: { factor: 14.4, long: '3600s', short: '300s', severity: 'CRITICAL', kind: 'page' },
      MediumBurn: { factor: 6, long: '21600s', short: '1800s', severity: 'CRITICAL', kind: 'page' },
      SlowBurn: { factor: 3, long: '86400s', short: '7200s', severity: 'WARNING', kind: 'ticket' },
    });
  });

  it('defines the four SLOs with their goals', () => {
    const specs = locals.slo_specs as Record<string, { goal: number }>;
    expect(Object.keys(specs).sort()).toEqual([
      'api-availability',
      'api-latency',
      'ingest-correctness',
      'ingest-freshness',
    ]);
    expect(specs['api-availability']!.goal).toBe(0.999);
    expect(specs['api-latency']!.goal).toBe(0.99);
    const latency = spec.files
      .flatMap((f) => blocks(f.json, 'variable'))
      .find(([n]) => n === 'api_latency_threshold_ms');
    expect(latency?.[1].default).toBe(250);
  });

  it('counts warehouse failures from the log lines the code writes with code warehouse_unavailable', () => {
    const metrics = locals.log_metric_defs as Record<string, { filter: string }>;
    expect(metrics['warehouse-errors']?.filter).toContain('jsonPayload.code="warehouse_unavailable"');
    const app = readFileSync(join(ROOT, 'src/app.ts'), 'utf8');
    expect(app).toMatch(/code: 'warehouse_unavailable'[^\n]*\n\s*'batch write failed/);
    expect(ERROR_CODES.warehouse_unavailable.status).toBe(503);
  });

  it('counts only consumer traffic (/v1/ routes) in the API SLOs, as the Prometheus rules do', () => {
    expect(text(locals.v1_routes)).toBe('metric.labels.route=starts_with("/v1/")');
    const sli = text(locals.sli);
    expect(sli.match(/\$\{local\.v1_routes\}/g)).toHaveLength(3);
  });
});

describe.skipIf(!terraformAvailable())('monitoring-spec, evaluated', () => {
  let out: Spec;
  beforeAll(() => {
    out = evaluateSpec('infra', {
      ducto: {
        api_service: 'a',
        ingest_service: 'i',
        gateway_id: 'g',
        datasets: ['flights'],
        subscriptions: ['s'],
      },
    }).spec;
  }, 120_000);

  it('gives every alert policy documentation with a runbook link to its section of docs/operations.md', () => {
    const page = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8');
    const headings = new Set([...page.matchAll(/^## (\S+)$/gm)].map((m) => m[1]!.toLowerCase()));
    const alerts = Object.values(out.alerts) as unknown as Array<{ name: string; content: string }>;
    expect(new Set(alerts.map((a) => a.name))).toEqual(
      new Set([
        ...[
          'DuctoApiAvailability',
          'DuctoApiLatency',
          'DuctoIngestFreshness',
          'DuctoIngestCorrectness',
        ].flatMap((s) => ['FastBurn', 'MediumBurn', 'SlowBurn'].map((b) => `${s}${b}`)),
        'DuctoBacklogAge',
        'DuctoDeadLetter',
        'DuctoIngestRejectedSpike',
        'DuctoWarehouseErrors',
        'DuctoBytesBilled',
      ]),
    );
    for (const a of alerts) {
      const anchor = a.name.toLowerCase();
      expect(a.content).toContain(`Runbook: docs/operations.md#${anchor}`);
      expect(headings, anchor).toContain(anchor);
    }
  });
});

describe('infra/modules/monitoring', () => {
  const all = () => resources(monitoring);

  it('creates the spec: log-based metrics, a wait, SLOs over 28 days, one policy per alert, dashboards', () => {
    const byType = (t: string) => all().filter((r) => r.type === t);
    expect(expr(byType('google_logging_metric')[0]?.body.for_each)).toBe('module.spec.log_metrics');
    expect(expr(byType('google_monitoring_slo')[0]?.body.for_each)).toBe('module.spec.slos');
    expect(byType('google_monitoring_slo')[0]?.body.rolling_period_days).toBe(28);
    expect(expr(byType('google_monitoring_alert_policy')[0]?.body.for_each)).toBe('module.spec.alerts');
    expect(expr(byType('google_monitoring_dashboard')[0]?.body.for_each)).toBe('module.spec.dashboards');
    // The metric types reach the spec only through the wait after the metrics.
    const wait = byType('time_sleep')[0]!;
    expect(text(wait.body.triggers)).toContain('google_logging_metric.default');
    const call = monitoring.files.flatMap((f) => blocks(f.json, 'module')).find(([n]) => n === 'spec')![1];
    expect(text(call.log_metric_types)).toMatch(/time_sleep\.log_metrics\.triggers/);
    expect(text(call.log_metric_types)).not.toMatch(/google_logging_metric/);
  });

  it('is created once per env root, with what each system reports', async () => {
    for (const env of ['dev', 'prod']) {
      const root = (await loadModules(`infra/envs/${env}`)).find((m) => m.dir === `infra/envs/${env}`)!;
      const uses = root.files
        .flatMap((f) => blocks(f.json, 'module'))
        .filter(([, b]) => text(b.source).endsWith('modules/monitoring'));
      expect(uses, env).toHaveLength(1);
      expect(uses[0]![1].for_each, env).toBeUndefined();
      expect(expr(uses[0]![1].systems), env).toBe('{ for name, s in module.system : name => s.monitoring }');
    }
  });
});
