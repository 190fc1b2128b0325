/**
 * The IAM permission model (scripts/infra-iam.ts) on the real infra/: the deploy, plan and build
 * identities hold every permission the model says they need, every role named exists, and the model's
 * data carry their sources. test/infra-doctored.test.ts shows the check failing where it should.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { checkIam, type Declared, declared, type IamModel, loadIamModel } from '../scripts/infra-iam.ts';

let model: IamModel;
let infra: Declared;

beforeAll(async () => {
  model = loadIamModel();
  infra = await declared();
});

describe('the IAM permission model', () => {
  it('finds every identity holding what it needs', () => {
    expect(checkIam(model, infra)).toEqual([]);
  });

  it('sees what infra/ declares: the managed types, the three identities and their grants', () => {
    for (const type of [
      'google_cloudfunctions2_function',
      'google_monitoring_alert_policy',
      'google_logging_metric',
      'google_project_service_identity',
      'time_sleep',
      'data.google_project',
      'ephemeral.random_password',
    ]) {
      expect(infra.managed.has(type), type).toBe(true);
    }
    // Bootstrap's types are applied by a project owner, not by the deploy account.
    expect(infra.managed.has('google_iam_workload_identity_pool')).toBe(false);
    expect(infra.deploy.map((g) => g.role)).toEqual(
      expect.arrayContaining([
        'roles/monitoring.editor',
        'roles/logging.configWriter',
        'roles/resourcemanager.projectIamAdmin',
      ]),
    );
    expect(infra.deploy.find((g) => g.role === 'roles/resourcemanager.projectIamAdmin')?.condition).toMatch(
      /modifiedGrantsByRole/,
    );
    expect(infra.plan.map((g) => g.role)).toEqual(
      expect.arrayContaining(['roles/viewer', 'roles/bigquery.metadataViewer']),
    );
    expect(infra.plan.map((g) => g.role)).not.toEqual(expect.arrayContaining(['roles/owner']));
    // The build account: logs project-wide, the function sources bucket only, the registry.
    const build = Object.fromEntries(infra.build.map((g) => [`${g.role} ${g.scope}`, g.condition]));
    expect(build).toMatchObject({
      'roles/logging.logWriter project': null,
      'roles/artifactregistry.writer registry': null,
      'roles/storage.objectViewer bucket': null,
    });
    expect(build['roles/storage.objectViewer project']).toMatch(
      /^resource\.name == "projects\/_\/buckets\/gcf-v2-sources-\$\{data\.google_project\.default\.number\}-\$\{var\.region\}" \|\| resource\.name\.startsWith\("projects\/_\/buckets\/gcf-v2-sources-/,
    );
  });

  it('names a source for every type and keeps the role data within its services', () => {
    for (const [type, entry] of Object.entries(model.types)) {
      expect(entry.sources.length, type).toBeGreaterThan(0);
      for (const c of entry.conditional) {
        const how = [c.argument, c.arguments, c.always, c.skip].filter((x) => x !== undefined);
        expect(how, `${type}: ${c.why}`).toHaveLength(1);
      }
    }
    for (const [role, r] of Object.entries(model.roles)) {
      expect(r.permissions.length, role).toBeGreaterThan(0);
      for (const p of r.permissions) expect(model.prefixes, `${role}: ${p}`).toContain(p.split('.')[0]);
    }
  });
});
