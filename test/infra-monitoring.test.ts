/**
 * What infra/modules/monitoring-spec defines and how infra/modules/monitoring creates it: the SRE
 * Workbook burn-rate scheme, the five SLOs, which burn rates page, latency thresholds that are
 * bucket bounds in the cloud and in Prometheus, runbook links, the log lines the metrics count,
 * and the order Cloud Monitoring needs (the metrics, their wait, then what reads them). The
 * filters themselves are checked against Google's metric catalogue in test/infra-metrics.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
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
import { createMetrics } from '../src/metrics.ts';
import { ROOT } from '../support/root.ts';

interface PromRule {
  alert?: string;
  record?: string;
  expr: string;
  labels?: Record<string, string>;
}
const promRules = (
  parse(readFileSync(join(ROOT, 'observability/prometheus/rules.yml'), 'utf8')) as {
    groups: Array<{ rules: PromRule[] }>;
  }
).groups.flatMap((g) => g.rules);

/** The upper bounds of a Prometheus histogram of src/metrics.ts, as it exposes them (+Inf aside). */
async function histogramBounds(name: string, labels: Record<string, string>): Promise<number[]> {
  const metrics = createMetrics(undefined, { defaults: false });
  const histogram = metrics.registry.getSingleMetric(name) as unknown as {
    observe(labels: Record<string, string>, value: number): void;
    get(): Promise<{ values: Array<{ metricName?: string; labels: Record<string, string | number> }> }>;
  };
  histogram.observe(labels, 0);
  const { values } = await histogram.get();
  return values
    .filter((v) => v.metricName === `${name}_bucket` && v.labels.le !== '+Inf')
    .map((v) => Number(v.labels.le));
}

const variableDefault = (module: TfModule, name: string) =>
  module.files.flatMap((f) => blocks(f.json, 'variable')).find(([n]) => n === name)?.[1].default;

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

  it('defines the five SLOs with their goals, and which of them page', () => {
    const specs = locals.slo_specs as Record<string, { goal: number; pages: boolean }>;
    expect(Object.keys(specs).sort()).toEqual([
      'api-availability',
      'api-latency-cached',
      'api-latency-warehouse',
      'ingest-correctness',
      'ingest-freshness',
    ]);
    expect(Object.fromEntries(Object.entries(specs).map(([k, v]) => [k, [v.goal, v.pages]]))).toEqual({
      'api-availability': [0.999, true],
      'api-latency-cached': [0.99, true],
      // Tickets only: its threshold is an estimate; a rejection is a producer's bug.
      'api-latency-warehouse': [0.95, false],
      'ingest-correctness': [0.999, false],
      'ingest-freshness': [0.99, true],
    });
    expect(variableDefault(spec, 'api_cached_latency_threshold_ms')).toBe(100);
    expect(variableDefault(spec, 'api_warehouse_latency_threshold_ms')).toBe(2500);
    // The same defaults where modules/monitoring takes them.
    expect(variableDefault(monitoring, 'api_cached_latency_threshold_ms')).toBe(100);
    expect(variableDefault(monitoring, 'api_warehouse_latency_threshold_ms')).toBe(2500);
  });

  it('cuts the Prometheus latency SLIs at the thresholds of the cloud SLOs', () => {
    const le = (record: string) =>
      promRules
        .filter((r) => r.record?.startsWith(`ducto:${record}:`))
        .map((r) => /le="([^"]+)"/.exec(r.expr)?.[1]);
    const cached = le('api_latency_cached_slow');
    const warehouse = le('api_latency_warehouse_slow');
    expect(cached.length).toBeGreaterThan(1);
    expect(warehouse.length).toBeGreaterThan(1);
    const threshold = (name: string) => Number(variableDefault(spec, name)) / 1000;
    for (const v of cached) expect(Number(v)).toBe(threshold('api_cached_latency_threshold_ms'));
    for (const v of warehouse) expect(Number(v)).toBe(threshold('api_warehouse_latency_threshold_ms'));
  });

  it('counts rejections per message, from the line the code writes for each rejected message', () => {
    const metrics = locals.log_metric_defs as Record<
      string,
      { filter: string; labels: Record<string, string> }
    >;
    expect(Object.keys(metrics)).not.toContain('ingest-batches-rejecting');
    expect(text(locals.rejected_filter)).toContain('jsonPayload.message="message rejected"');
    expect(metrics['ingest-messages-rejected']?.filter).toBe('${local.rejected_filter}');
    expect(metrics['ingest-messages-rejected']?.labels).toEqual({
      code: 'EXTRACT(jsonPayload.code)',
      dataset: 'EXTRACT(jsonPayload.rejected.dataset)',
    });
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
    // Availability (total and bad) and both latency SLIs.
    expect(sli.match(/\$\{local\.v1_routes\}/g)).toHaveLength(4);
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
          'DuctoApiLatencyCached',
          'DuctoApiLatencyWarehouse',
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

  it('makes every alert on correctness a ticket, and warehouse latency tickets only', () => {
    const alerts = Object.values(out.alerts) as unknown as Array<{
      name: string;
      severity: string;
      kind: string;
    }>;
    const correctness = alerts.filter((a) => /^DuctoIngest(Correctness|RejectedSpike)/.test(a.name));
    expect(new Set(correctness.map((a) => a.name)).size).toBe(4);
    for (const a of correctness) expect([a.name, a.severity, a.kind]).toEqual([a.name, 'WARNING', 'ticket']);
    for (const a of alerts.filter((x) => x.name.startsWith('DuctoApiLatencyWarehouse')))
      expect([a.name, a.kind]).toEqual([a.name, 'ticket']);
    for (const a of alerts.filter((x) =>
      /^DuctoApi(Availability|LatencyCached)(Fast|Medium)Burn$/.test(x.name),
    ))
      expect([a.name, a.severity, a.kind]).toEqual([a.name, 'CRITICAL', 'page']);
  });

  it('holds every latency SLO threshold at a bucket bound of the log-based metric and of the Prometheus histogram', async () => {
    const api = out.log_metrics['api-request-latency'] as unknown as { bounds: number[] };
    const prometheus = await histogramBounds('ducto_api_request_duration_seconds', {
      route: '/v1/x',
      cache: 'hit',
    });
    // The same bounds in both worlds: milliseconds there, seconds here.
    expect(api.bounds.map((b) => b / 1000)).toEqual(prometheus);
    const cuts = Object.entries(out.slos).filter(([, s]) => s.sli.kind === 'distribution_cut');
    expect(cuts.map(([k]) => k.split('/')[1]).sort()).toEqual([
      'api-latency-cached',
      'api-latency-warehouse',
    ]);
    for (const [k, s] of cuts) {
      expect(String(s.sli.distribution), k).toContain('/ducto-api-request-latency"');
      expect(api.bounds, k).toContain(s.sli.max);
      expect(prometheus, k).toContain(Number(s.sli.max) / 1000);
    }
    // The other distributions match their Prometheus histograms too.
    const write = out.log_metrics['batch-write-latency'] as unknown as { bounds: number[] };
    expect(write.bounds.map((b) => b / 1000)).toEqual(
      await histogramBounds('ducto_warehouse_write_seconds', { dataset: 'd' }),
    );
    const rows = out.log_metrics['ingest-rows-stored'] as unknown as { bounds: number[] };
    expect(rows.bounds).toEqual(await histogramBounds('ducto_ingest_batch_size', { dataset: 'd' }));
  });

  it('refuses a latency threshold that is not a bucket bound', () => {
    const systems = {
      ducto: {
        api_service: 'a',
        ingest_service: 'i',
        gateway_id: 'g',
        datasets: ['f'],
        subscriptions: ['s'],
      },
    };
    expect(() => evaluateSpec('infra', systems, { api_cached_latency_threshold_ms: 150 })).toThrow(
      /bucket bound/,
    );
    expect(() => evaluateSpec('infra', systems, { api_warehouse_latency_threshold_ms: 2000 })).toThrow(
      /bucket bound/,
    );
  }, 120_000);

  it('has the same burn-rate alerts, paging alike, as the Prometheus rules (freshness aside: /metrics cannot see the push backlog)', () => {
    const cloud = new Map<string, string>();
    for (const a of Object.values(out.alerts) as unknown as Array<{ name: string; kind: string }>) {
      if (a.name.endsWith('Burn') && !a.name.startsWith('DuctoIngestFreshness')) cloud.set(a.name, a.kind);
    }
    const prometheus = new Map(
      promRules.filter((r) => r.alert?.endsWith('Burn')).map((r) => [r.alert!, r.labels?.severity]),
    );
    expect(cloud.size).toBe(12);
    expect(prometheus).toEqual(cloud);
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

  it("sends pages and tickets to their own channels, by each alert's kind", async () => {
    const policy = all().find((r) => r.type === 'google_monitoring_alert_policy')!;
    expect(expr(policy.body.notification_channels).replace(/\s+/g, ' ')).toBe(
      'each.value.kind == "page" ? var.page_notification_channels : var.ticket_notification_channels',
    );
    for (const env of ['dev', 'prod']) {
      const root = (await loadModules(`infra/envs/${env}`)).find((m) => m.dir === `infra/envs/${env}`)!;
      const call = root.files
        .flatMap((f) => blocks(f.json, 'module'))
        .find(([, b]) => text(b.source).endsWith('modules/monitoring'))![1];
      expect([expr(call.page_notification_channels), expr(call.ticket_notification_channels)], env).toEqual([
        'var.alert_page_channels',
        'var.alert_ticket_channels',
      ]);
    }
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
