/**
 * Each check shown to fail on a doctored copy of infra/: the defects that once stood between a fork
 * and its first green deploy are put back one at a time, and the check made for that class of
 * defect must find it (and the real infra/ passes the same checks: test/infra-iam.test.ts,
 * test/infra-ordering.test.ts, test/infra-metrics.test.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkIam, declared, loadIamModel } from '../scripts/infra-iam.ts';
import { checkOrdering } from '../scripts/infra-ordering.ts';
import { checkSignals, evaluateSpec, loadCatalogue, terraformAvailable } from '../scripts/infra-signals.ts';
import { doctoredInfra, type Edit } from './helpers/doctored.ts';
import { MONITORED } from './helpers/monitored-systems.ts';

const model = loadIamModel();

async function iamProblems(edits: Edit[]): Promise<string[]> {
  const copy = doctoredInfra(edits);
  try {
    return checkIam(model, await declared('infra', copy.base));
  } finally {
    copy.remove();
  }
}

async function orderingFindings(edits: Edit[]): Promise<string[]> {
  const copy = doctoredInfra(edits);
  try {
    return (await checkOrdering('infra', copy.base)).map((f) => `[${f.rule}] ${f.message}`);
  } finally {
    copy.remove();
  }
}

const ENV_MAIN = 'envs/dev/main.tf';

describe('the permission model finds', () => {
  it('a deploy account without roles/monitoring.editor (issue 13, defect 1)', async () => {
    const problems = await iamProblems([
      { file: 'bootstrap/variables.tf', from: '    "roles/monitoring.editor",\n', to: '' },
    ]);
    expect(problems).toEqual(
      expect.arrayContaining([
        'deploy: google_monitoring_alert_policy (create) needs monitoring.alertPolicies.create',
        'deploy: google_monitoring_alert_policy (create, read, update) needs monitoring.alertPolicies.get',
        'deploy: google_monitoring_slo (create) needs monitoring.slos.create',
        'deploy: google_monitoring_dashboard (create) needs monitoring.dashboards.create',
      ]),
    );
    expect(problems.every((p) => p.startsWith('deploy: google_monitoring_'))).toBe(true);
  });

  it('a deploy account without roles/logging.configWriter (defect 1)', async () => {
    const problems = await iamProblems([
      { file: 'bootstrap/variables.tf', from: '    "roles/logging.configWriter",\n', to: '' },
    ]);
    expect(problems).toEqual(
      expect.arrayContaining(['deploy: google_logging_metric (create) needs logging.logMetrics.create']),
    );
  });

  it('a project role the env roots grant but the deploy account may not (the hasOnly condition)', async () => {
    const problems = await iamProblems([
      {
        file: 'bootstrap/variables.tf',
        from: '["roles/bigquery.jobUser", "roles/logging.logWriter", "roles/storage.objectViewer"]',
        to: '["roles/bigquery.jobUser", "roles/logging.logWriter"]',
      },
    ]);
    expect(problems).toEqual([
      expect.stringMatching(
        /infra\/envs\/dev: google_project_iam_member\.build_sources grants roles\/storage\.objectViewer at project level, which the deploy account may not grant/,
      ),
      expect.stringMatching(
        /infra\/envs\/prod: google_project_iam_member\.build_sources grants roles\/storage\.objectViewer/,
      ),
    ]);
  });

  it('a build account that cannot read the gcf-v2-sources bucket (defect 2)', async () => {
    // Back to reading the project's own sources bucket only.
    const problems = await iamProblems([
      {
        file: ENV_MAIN,
        from: / {4}expression {2}= "resource\.name == .*\n/.exec(
          readFileSync('infra/envs/dev/main.tf', 'utf8'),
        )![0],
        to: '    expression  = "resource.name.startsWith(\\"projects/_/buckets/${google_storage_bucket.sources.name}\\")"\n',
      },
    ]);
    expect(problems).toEqual([
      'build: read the function source Cloud Run functions copied into its gcf-v2-sources-<project number>-<region> bucket needs storage.objects.get on the gcf-v2-sources',
    ]);
  });

  it('a role that does not exist (roles/apikeys.admin)', async () => {
    const problems = await iamProblems([
      {
        file: 'bootstrap/variables.tf',
        from: '"roles/serviceusage.apiKeysAdmin"',
        to: '"roles/apikeys.admin"',
      },
    ]);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /names roles\/apikeys\.admin, which is not a role the model knows: API Keys has no roles/,
        ),
        'deploy: google_apikeys_key (create, read, update, delete) needs apikeys.keys.get',
      ]),
    );
  });

  it('a plan account that cannot refresh BigQuery tables once their dataset grants are authoritative', async () => {
    const problems = await iamProblems([
      { file: 'bootstrap/variables.tf', from: '    "roles/bigquery.metadataViewer",\n', to: '' },
    ]);
    expect(problems).toEqual(['plan: refreshing google_bigquery_table needs bigquery.tables.get']);
  });

  it('a new resource type, and a new argument with a requirement, the model does not cover', async () => {
    const problems = await iamProblems([
      {
        file: 'modules/pubsub-dataset/main.tf',
        from: 'resource "google_pubsub_subscription" "dead_letter" {',
        to: 'resource "google_pubsub_lite_topic" "x" {\n  name = "x"\n}\n\nresource "google_pubsub_subscription" "dead_letter" {',
      },
      {
        file: 'modules/bigquery-dataset/main.tf',
        from: '  delete_contents_on_destroy = !var.deletion_protection',
        to: '  delete_contents_on_destroy = !var.deletion_protection\n  default_encryption_configuration {\n    kms_key_name = "k"\n  }\n  resource_tags = { "tagKeys/1" = "tagValues/2" }',
      },
    ]);
    expect(problems).toEqual(
      expect.arrayContaining([
        'google_pubsub_lite_topic is managed by the env roots but has no entry in infra/model/iam-types.json',
        'deploy: google_bigquery_dataset (create, update) needs bigquery.datasets.createTagBinding',
      ]),
    );
  });
});

describe('the ordering check finds', () => {
  it('alert policies and SLOs reading log-based metric types spelled as strings (defect 3)', async () => {
    const findings = await orderingFindings([
      {
        file: 'modules/monitoring/main.tf',
        from: '{ for k, name in time_sleep.log_metrics.triggers : k => "logging.googleapis.com/user/${name}" }\n  slo_names',
        to: '{ for k, v in module.spec.log_metrics : k => "logging.googleapis.com/user/ducto-${k}" }\n  slo_names',
      },
    ]);
    expect(findings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^\[names-by-reference\] module\.spec\.log_metric_types spells out a log-based metric type/,
        ),
        expect.stringMatching(
          /^\[waits\] infra\/envs\/dev: module\.monitoring\.google_monitoring_alert_policy\.default reads a log-based metric named by a string/,
        ),
        expect.stringMatching(
          /^\[waits\] infra\/envs\/prod: module\.monitoring\.google_monitoring_slo\.default reads a log-based metric named by a string/,
        ),
      ]),
    );
  });

  it('alert policies and SLOs that reference the metrics but do not wait for them (provider issue 11102)', async () => {
    const findings = await orderingFindings([
      {
        file: 'modules/monitoring/main.tf',
        from: '{ for k, name in time_sleep.log_metrics.triggers : k => "logging.googleapis.com/user/${name}" }\n  slo_names',
        to: '{ for k, m in google_logging_metric.default : k => "logging.googleapis.com/user/${m.name}" }\n  slo_names',
      },
    ]);
    expect(findings.length).toBe(4);
    for (const f of findings) {
      expect(f).toMatch(
        /^\[waits\] infra\/envs\/(dev|prod): module\.monitoring\.google_monitoring_(alert_policy|slo)\.default reads module\.monitoring\.google_logging_metric\.default without a time_sleep/,
      );
    }
  });

  it('the gateway managed service enabled before a config is rolled out (defect 7)', async () => {
    const findings = await orderingFindings([
      {
        file: 'modules/api-gateway/main.tf',
        from: '  depends_on         = [google_api_gateway_api_config.default, google_api_gateway_gateway.default]\n',
        to: '',
      },
    ]);
    expect(findings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^\[waits\] infra\/envs\/dev: module\.system\.module\.gateway\.google_project_service\.default is created without waiting for a google_api_gateway_api_config/,
        ),
        expect.stringMatching(/is created without waiting for a google_api_gateway_gateway/),
      ]),
    );
  });

  it('a monitoring input rebuilt from system names instead of taken from the systems (defect 8)', async () => {
    const findings = await orderingFindings([
      {
        file: ENV_MAIN,
        from: 'systems = { for name, s in module.system : name => s.monitoring }',
        to: 'systems = { for name, s in var.systems : name => { api_service = "${name}-api", ingest_service = "${name}-ingest", gateway_id = "${name}-gw", datasets = [], subscriptions = [] } }',
      },
    ]);
    expect(findings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^\[names-by-reference\] module\.monitoring\.systems rebuilds the name "\*-api"/,
        ),
        expect.stringMatching(/rebuilds the name "\*-ingest"/),
        expect.stringMatching(/rebuilds the name "\*-gw" of google_api_gateway_gateway\.default\.gateway_id/),
      ]),
    );
  });

  it('function builds that do not wait for the registry grant (defect 11)', async () => {
    const findings = await orderingFindings([
      {
        file: ENV_MAIN,
        from: '      google_artifact_registry_repository_iam_member.build_writer.id,\n',
        to: '',
      },
    ]);
    expect(findings.length).toBeGreaterThan(0);
    for (const f of findings) {
      expect(f).toMatch(
        /^\[waits\] infra\/envs\/dev: module\.system\.module\.(api|ingest)_function\.google_cloudfunctions2_function\.default does not wait for google_artifact_registry_repository_iam_member\.build_writer/,
      );
    }
  });

  it("Pub/Sub's service agent named by a string, and used without waiting for it (defect 11)", async () => {
    const spelled = await orderingFindings([
      {
        file: ENV_MAIN,
        from: 'pubsub_service_agent      = time_sleep.pubsub_agent.triggers["member"]',
        to: 'pubsub_service_agent      = "serviceAccount:service-${data.google_project.default.number}@gcp-sa-pubsub.iam.gserviceaccount.com"',
      },
    ]);
    expect(spelled).toEqual([
      expect.stringMatching(
        /^\[names-by-reference\] module\.system\.pubsub_service_agent builds a service account email/,
      ),
    ]);
    const unwaited = await orderingFindings([
      {
        file: ENV_MAIN,
        from: 'pubsub_service_agent      = time_sleep.pubsub_agent.triggers["member"]',
        to: 'pubsub_service_agent      = "serviceAccount:${google_project_service_identity.pubsub.email}"',
      },
    ]);
    expect(unwaited.length).toBeGreaterThan(0);
    for (const f of unwaited)
      expect(f).toMatch(/grants to google_project_service_identity\.pubsub without a time_sleep after it/);
  });

  it('a resource path built from strings (the build account id)', async () => {
    const findings = await orderingFindings([
      {
        file: 'modules/function/main.tf',
        from: '    service_account   = var.build_service_account',
        to: '    service_account   = "projects/${var.project_id}/serviceAccounts/${var.build_service_account}"',
      },
    ]);
    expect(findings).toEqual([
      expect.stringMatching(
        /^\[names-by-reference\] google_cloudfunctions2_function\.default\.build_config\[0\]\.service_account builds a resource path/,
      ),
    ]);
  });
});

describe.skipIf(!terraformAvailable())('the metric catalogue finds', () => {
  const systems = { ducto: MONITORED.ducto! };
  const problems = (edits: Edit[]) => {
    const copy = doctoredInfra(edits);
    try {
      const { spec, logMetricTypes, sloNames } = evaluateSpec(join(copy.base, 'infra'), systems);
      return checkSignals(spec, systems, logMetricTypes, sloNames, loadCatalogue());
    } finally {
      copy.remove();
    }
  };

  it('gateway tiles filtering on the system name instead of the gateway id (defect 8)', () => {
    const found = problems([
      {
        file: 'modules/monitoring-spec/main.tf',
        from: 'resource.labels.gateway_id=\\"${v.gateway_id}\\"',
        to: 'resource.labels.gateway_id=\\"${s}\\"',
      },
    ]);
    expect(found).toEqual([
      'dashboard system/ducto "Gateway requests": gateway_id "ducto" is not one the deployment reports',
    ]);
  });

  it('dead letters counted on the dead-letter topic with the deprecated send_message_operation_count (defect 9)', () => {
    const found = problems([
      {
        file: 'modules/monitoring-spec/main.tf',
        from: 'filter       = "metric.type=\\"pubsub.googleapis.com/subscription/dead_letter_message_count\\" AND ${f.subs}"',
        to: 'filter       = "metric.type=\\"pubsub.googleapis.com/topic/send_message_operation_count\\" AND resource.type=\\"pubsub_topic\\" AND resource.labels.topic_id=\\"${s}-dead-letter\\""',
      },
    ]);
    expect(found).toEqual([
      'alert ducto/dead-letter condition 0 reads pubsub.googleapis.com/topic/send_message_operation_count, which Google deprecated',
    ]);
  });

  it('a metric Google does not record (API Gateway latency)', () => {
    const found = problems([
      {
        file: 'modules/monitoring-spec/main.tf',
        from: '{ title = "Gateway requests", filter = "metric.type=\\"apigateway.googleapis.com/proxy/request_count\\"',
        to: '{ title = "Gateway requests", filter = "metric.type=\\"apigateway.googleapis.com/proxy/request_latencies\\"',
      },
    ]);
    expect(found).toEqual([
      expect.stringMatching(
        /reads apigateway\.googleapis\.com\/proxy\/request_latencies, which is not a metric/,
      ),
    ]);
  });
});
