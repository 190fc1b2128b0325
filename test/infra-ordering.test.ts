/**
 * The ordering check (scripts/infra-ordering.ts) on the real infra/, and the dependency graph it
 * reads (scripts/infra-graph.ts). test/infra-doctored.test.ts shows it failing where it should.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { buildGraph, type Graph, reachable } from '../scripts/infra-graph.ts';
import { checkOrdering } from '../scripts/infra-ordering.ts';

describe('the ordering check', () => {
  it('finds no name spelled out and no missing wait in infra/', async () => {
    expect(await checkOrdering()).toEqual([]);
  });
});

describe('the dependency graph of infra/envs/dev, as Terraform orders it', () => {
  let graph: Graph;
  beforeAll(async () => {
    graph = await buildGraph('infra/envs/dev');
  });
  const dependsOn = (a: string, b: string) => reachable(graph, a).has(b);

  it('has the nodes of the root and of every module, at any depth', () => {
    for (const id of [
      'google_service_account.build',
      'module.system.module.bus.google_pubsub_subscription.default',
      'module.system.module.api_function.google_cloudfunctions2_function.default',
      'module.monitoring.module.spec.output.alerts',
      'module.system.module.gateway.var.region',
    ]) {
      expect(graph.nodes.has(id), id).toBe(true);
    }
  });

  it('orders alert policies after the log-based metrics, through the wait', () => {
    const policy = 'module.monitoring.google_monitoring_alert_policy.default';
    expect(dependsOn(policy, 'module.monitoring.time_sleep.log_metrics')).toBe(true);
    expect(
      dependsOn(
        'module.monitoring.time_sleep.log_metrics',
        'module.monitoring.google_logging_metric.default',
      ),
    ).toBe(true);
    // …and the metrics do not wait for what reads them (no cycle).
    expect(dependsOn('module.monitoring.google_logging_metric.default', policy)).toBe(false);
  });

  it('orders function builds after the build grants, and subscriptions after the push identity', () => {
    const fn = 'module.system.module.ingest_function.google_cloudfunctions2_function.default';
    expect(dependsOn(fn, 'time_sleep.build_iam')).toBe(true);
    expect(dependsOn(fn, 'google_project_iam_member.build_sources')).toBe(true);
    expect(dependsOn(fn, 'google_artifact_registry_repository_iam_member.build_writer')).toBe(true);
    expect(
      dependsOn(
        'module.system.module.bus.google_pubsub_subscription.default',
        'module.system.google_service_account.push',
      ),
    ).toBe(true);
    // A module's input is its own node: the gateway's region does not depend on the functions.
    expect(dependsOn('module.system.module.gateway.var.region', fn)).toBe(false);
  });
});
