/**
 * The metric catalogue (scripts/infra-signals.ts): infra/modules/monitoring-spec evaluated by real
 * Terraform for a deployment of several systems, every filter held against
 * infra/model/metrics.json. The checker is also shown to catch each kind of mistake it exists for.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type Catalogue,
  checkSignals,
  evaluateSpec,
  filtersOf,
  loadCatalogue,
  parseFilter,
  type Spec,
  terraformAvailable,
} from '../scripts/infra-signals.ts';
import { MONITORED } from './helpers/monitored-systems.ts';

const available = terraformAvailable();
if (!available) console.log('infra-metrics: skipped, no terraform binary on PATH (CI installs it)');

const systems = MONITORED;

const catalogue: Catalogue = loadCatalogue();

describe('infra/model/metrics.json', () => {
  it('names a source for every metric and monitored resource, and a resource entry for every resource a metric is written against', () => {
    for (const [type, m] of Object.entries(catalogue.metrics)) {
      expect((m as { source?: string }).source, type).toMatch(/^https:\/\/(docs\.)?cloud\.google\.com\//);
      for (const r of m.resources) expect(catalogue.resources[r], `${type} → ${r}`).toBeDefined();
    }
    for (const [type, r] of Object.entries(catalogue.resources)) {
      expect((r as { source?: string }).source, type).toMatch(/^https:\/\//);
      expect(r.labels.length, type).toBeGreaterThan(0);
    }
  });
});

describe.skipIf(!available)('every alert, SLO and dashboard filter against the catalogue', () => {
  let spec: Spec;
  let logMetricTypes: Record<string, string>;
  let sloNames: Record<string, string>;

  beforeAll(() => {
    ({ spec, logMetricTypes, sloNames } = evaluateSpec('infra', systems));
  }, 120_000);

  it('finds no problem', () => {
    expect(checkSignals(spec, systems, logMetricTypes, sloNames, catalogue)).toEqual([]);
  });

  it('reads every system by the names it reports, and nothing else', () => {
    const filters = filtersOf(spec)
      .map((u) => u.filter)
      .join('\n');
    for (const s of Object.values(systems)) {
      for (const name of [s.api_service, s.ingest_service, s.gateway_id, ...s.subscriptions]) {
        expect(filters, name).toContain(`"${name}"`);
      }
    }
    // The partner system's names do not start with its key: nothing can have rebuilt them from it.
    expect(filters).not.toMatch(/"partner-(api|ingest|gw)"/);
  });

  it('counts dead letters where Pub/Sub does: dead_letter_message_count on each delivering subscription', () => {
    for (const [name, s] of Object.entries(systems)) {
      const alert = spec.alerts[`${name}/dead-letter`]!;
      const terms = parseFilter(alert.conditions[0]!.filter);
      expect(terms.find((t) => t.key === 'metric.type')?.values).toEqual([
        'pubsub.googleapis.com/subscription/dead_letter_message_count',
      ]);
      expect(terms.find((t) => t.key === 'resource.labels.subscription_id')?.values).toEqual(s.subscriptions);
    }
  });

  it('counts correctness per message: messages each delivering subscription acknowledged, and the rejected ones ingest logged', () => {
    for (const [name, s] of Object.entries(systems)) {
      const sli = spec.slos[`${name}/ingest-correctness`]!.sli;
      expect(sli.kind).toBe('good_total_ratio');
      const total = parseFilter(String(sli.total));
      expect(total.find((t) => t.key === 'metric.type')?.values).toEqual([
        'pubsub.googleapis.com/subscription/push_request_count',
      ]);
      expect(total.find((t) => t.key === 'resource.labels.subscription_id')?.values).toEqual(s.subscriptions);
      expect(total.find((t) => t.key === 'metric.labels.response_class')?.values).toEqual(['ack']);
      const bad = parseFilter(String(sli.bad));
      expect(bad.find((t) => t.key === 'metric.type')?.values).toEqual([
        logMetricTypes['ingest-messages-rejected'],
      ]);
      expect(bad.find((t) => t.key === 'resource.labels.service_name')?.values).toEqual([s.ingest_service]);
    }
  });

  describe('catches', () => {
    const problems = (edit: (s: Spec) => void, names = systems) => {
      const doctored = structuredClone(spec);
      edit(doctored);
      return checkSignals(doctored, names, logMetricTypes, sloNames, catalogue);
    };
    const firstAlert = (s: Spec, key: string) => s.alerts[key]!.conditions[0]!;

    it('a metric type that does not exist, or that Google deprecated', () => {
      expect(
        problems((s) => {
          firstAlert(s, 'ducto/dead-letter').filter = firstAlert(s, 'ducto/dead-letter').filter.replace(
            'subscription/dead_letter_message_count',
            'subscription/dead_letters',
          );
        }),
      ).toEqual([expect.stringContaining('neither in infra/model/metrics.json nor a log-based metric')]);
      expect(
        problems((s) => {
          firstAlert(s, 'ducto/dead-letter').filter =
            'metric.type="pubsub.googleapis.com/topic/send_message_operation_count" AND resource.type="pubsub_topic"';
        }),
      ).toEqual([expect.stringContaining('Google deprecated')]);
    });

    it('a metric on the wrong monitored resource, or a label that resource does not have', () => {
      expect(
        problems((s) => {
          firstAlert(s, 'ducto/backlog-age').filter = firstAlert(s, 'ducto/backlog-age').filter.replace(
            'resource.type="pubsub_subscription"',
            'resource.type="pubsub_topic"',
          );
        }),
      ).toEqual(
        expect.arrayContaining([
          expect.stringContaining('not pubsub_topic'),
          expect.stringContaining('pubsub_topic has no label subscription_id'),
        ]),
      );
    });

    it('a gateway, service or subscription the deployment does not have (a name rebuilt from the system key)', () => {
      const found = problems((s) => {
        s.dashboards['system/partner'] = s.dashboards['system/partner']!.replaceAll(
          'partner-gw-x1',
          'partner',
        );
      });
      expect(found.length).toBeGreaterThan(0);
      for (const p of found) expect(p).toMatch(/gateway_id "partner" is not one the deployment reports/);
    });

    it('a label value the metric never takes', () => {
      expect(
        problems((s) => {
          const sli = s.slos['ducto/ingest-correctness']!.sli;
          sli.total = String(sli.total).replace('response_class="ack"', 'response_class="success"');
        }),
      ).toEqual([expect.stringContaining('label response_class never takes "success"')]);
    });

    it('an aligner or reducer the metric kind does not allow, and an SLI on the wrong kind of metric', () => {
      expect(
        problems((s) => {
          firstAlert(s, 'ducto/backlog-age').aggregation.aligner = 'ALIGN_RATE';
        }),
      ).toEqual([expect.stringContaining('ALIGN_RATE does not apply')]);
      expect(
        problems((s) => {
          s.slos['ducto/ingest-freshness']!.sli.kind = 'good_total_ratio';
        }),
      ).toEqual([expect.stringContaining('a good_total_ratio SLI needs DELTA/CUMULATIVE')]);
    });

    it('a burn rate reading an SLO the module does not define, and a filter without a resource type', () => {
      expect(
        problems((s) => {
          firstAlert(s, 'ducto/api-latency-cached/FastBurn').filter =
            'select_slo_burn_rate("projects/p/services/x/serviceLevelObjectives/y", "3600s")';
        }),
      ).toEqual([expect.stringContaining('which the module does not define')]);
      expect(
        problems((s) => {
          firstAlert(s, 'bytes-billed').filter =
            'metric.type="bigquery.googleapis.com/query/scanned_bytes_billed"';
        }),
      ).toEqual([expect.stringContaining('does not restrict resource.type')]);
    });
  });
});

it('parseFilter splits on AND outside quotes and reads one_of and functions', () => {
  expect(
    parseFilter(
      'metric.type="a AND b" AND resource.labels.x=one_of("p","q") AND metric.labels.route=starts_with("/v1/")',
    ),
  ).toEqual([
    { key: 'metric.type', op: '=', values: ['a AND b'] },
    { key: 'resource.labels.x', op: '=', values: ['p', 'q'], fn: 'one_of' },
    { key: 'metric.labels.route', op: '=', values: [], fn: 'starts_with' },
  ]);
  expect(readFileSync('infra/model/metrics.json', 'utf8')).toContain('dead_letter_message_count');
});
