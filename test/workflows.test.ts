/**
 * The workflows under .github/ are checked here, offline, the way a security reviewer would:
 * every file against the GitHub Actions schema (@action-validator/core), then ducto's rules — SHA
 * pins with a version comment, `permissions: {}` at the top, no JSON key, no check allowed to fail,
 * a timeout on every job, a concurrency group. Each rule has a fixture under
 * test/fixtures/workflows/ that breaks it, and the checker must report exactly that rule there.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateWorkflow } from '@action-validator/core';
import { describe, expect, it } from 'vitest';
import { isMap, isScalar, LineCounter, parseDocument, visit } from 'yaml';
import { DEFAULT_REGION, githubSettings } from '../scripts/deploy-bootstrap.ts';
import { type RoutedJob, routes } from './helpers/workflow-routes.ts';

const WORKFLOWS = '.github/workflows';
const SCRIPTS = '.github/scripts';
const FIXTURES = 'test/fixtures/workflows';

const RULES = [
  'yaml',
  'unpinned-action',
  'version-comment',
  'permissions-missing',
  'broad-permissions',
  'json-key',
  'continue-on-error',
  'or-true',
  'timeout-missing',
  'concurrency-missing',
] as const;
type Rule = (typeof RULES)[number];
type Finding = { rule: Rule; at: string; message: string };

const SHA_PIN = /^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40}$/;
const VERSION_COMMENT = /^\s*v\d+(\.\d+)*\b/;
// Ways a shell step swallows a failure.
const SWALLOWED_FAILURE = /\|\|\s*(?:true\b|:(?=\s|;|\)|$)|exit\s+0\b)|^\s*set\s+\+e\b/m;
const KEY_INPUTS = new Set(['credentials_json', 'service_account_key', 'credentials']);
const KEY_ENV = new Set(['GOOGLE_APPLICATION_CREDENTIALS', 'GOOGLE_CREDENTIALS', 'GOOGLE_GHA_CREDS_PATH']);
const KEY_SECRET = /secrets\.\w*(SA_KEY|SERVICE_ACCOUNT_KEY|CREDENTIALS_JSON|GCP_CREDENTIALS|GCP_KEY)\w*/i;

type Job = {
  uses?: string;
  steps?: Step[];
  'timeout-minutes'?: unknown;
  'continue-on-error'?: unknown;
  concurrency?: unknown;
  env?: Record<string, unknown>;
};
type Step = {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
  'continue-on-error'?: unknown;
};

/** ducto's rules on one workflow file (the schema is checked separately, by action-validator). */
function checkWorkflow(file: string, source: string): Finding[] {
  const findings: Finding[] = [];
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines, uniqueKeys: true });
  const at = (offset?: number) => (offset === undefined ? file : `${file}:${lines.linePos(offset).line}`);
  const report = (rule: Rule, message: string, offset?: number) =>
    findings.push({ rule, at: at(offset), message });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) report('yaml', e.message, e.pos[0]);
    return findings;
  }

  // Every action by commit SHA, with the version the SHA was taken from as a comment: a tag can be
  // moved to other code, a SHA cannot, and the comment is what Dependabot and reviewers read.
  visit(doc, {
    Pair(_, pair) {
      if (!isScalar(pair.key) || pair.key.value !== 'uses' || !isScalar(pair.value)) return;
      const ref = String(pair.value.value);
      const offset = pair.value.range?.[0];
      if (ref.startsWith('./')) return;
      if (ref.startsWith('docker://')) {
        if (!/@sha256:[0-9a-f]{64}$/.test(ref))
          report('unpinned-action', `${ref} is not pinned by digest`, offset);
        return;
      }
      if (!SHA_PIN.test(ref)) {
        report('unpinned-action', `${ref} is not pinned to a full commit SHA`, offset);
        return;
      }
      if (!VERSION_COMMENT.test(pair.value.comment ?? '')) {
        report('version-comment', `${ref} has no "# vX.Y.Z" comment naming its version`, offset);
      }
    },
  });

  // The token starts with nothing; each job asks for what it needs.
  const permissions = doc.get('permissions', true);
  if (permissions === undefined) {
    report('permissions-missing', 'no top-level permissions: declare `permissions: {}` and grant per job');
  } else if (!isMap(permissions) || permissions.items.length > 0) {
    report(
      'permissions-missing',
      'top-level permissions grant something: declare `permissions: {}` and grant per job',
      (permissions as { range?: [number] }).range?.[0],
    );
  }
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && pair.key.value === 'permissions' && isScalar(pair.value)) {
        report('broad-permissions', `permissions: ${pair.value.value}`, pair.value.range?.[0]);
      }
    },
  });

  const workflow = doc.toJS() as {
    env?: Record<string, unknown>;
    concurrency?: unknown;
    jobs?: Record<string, Job>;
  };
  const jobs = Object.entries(workflow.jobs ?? {});
  const checkKeyEnv = (where: string, env: Record<string, unknown> | undefined) => {
    for (const [name, value] of Object.entries(env ?? {})) {
      if (KEY_ENV.has(name) || KEY_SECRET.test(String(value))) {
        report(
          'json-key',
          `${where} sets ${name} from a key: authenticate with Workload Identity Federation`,
        );
      }
    }
  };
  checkKeyEnv('the workflow', workflow.env);

  for (const [id, job] of jobs) {
    checkKeyEnv(`job ${id}`, job.env);
    if (job['continue-on-error'] !== undefined && job['continue-on-error'] !== false) {
      report('continue-on-error', `job ${id} may fail without failing the run`);
    }
    // A call of a reusable workflow takes no timeout; the called workflow's jobs carry theirs.
    if (job.uses === undefined && job['timeout-minutes'] === undefined) {
      report('timeout-missing', `job ${id} has no timeout-minutes`);
    }
    if (workflow.concurrency === undefined && job.uses === undefined && job.concurrency === undefined) {
      report('concurrency-missing', `job ${id} is in no concurrency group (none at the top level either)`);
    }
    for (const [i, step] of (job.steps ?? []).entries()) {
      const name = `job ${id}, step ${step.name ?? step.id ?? step.uses ?? step.run?.split('\n')[0] ?? i + 1}`;
      checkKeyEnv(name, step.env);
      for (const [input, value] of Object.entries(step.with ?? {})) {
        if (KEY_INPUTS.has(input) || KEY_SECRET.test(String(value))) {
          report('json-key', `${name} passes ${input}: authenticate with Workload Identity Federation`);
        }
      }
      if (step['continue-on-error'] !== undefined && step['continue-on-error'] !== false) {
        report('continue-on-error', `${name} may fail without failing the job`);
      }
      if (typeof step.run === 'string') {
        if (SWALLOWED_FAILURE.test(step.run)) report('or-true', `${name} swallows a failure in its script`);
        if (KEY_SECRET.test(step.run)) report('json-key', `${name} reads a key secret in its script`);
      }
    }
  }
  return findings;
}

/** The schema check (action-validator, the workflow schema of SchemaStore in WebAssembly). */
function validateSchema(file: string): string[] {
  return validateWorkflow(readFileSync(file, 'utf8')).errors.map((e) => `${file}: ${JSON.stringify(e)}`);
}

const yamlFiles = (dir: string) =>
  readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => join(dir, f));
const workflowFiles = yamlFiles(WORKFLOWS);
const read = (file: string) => readFileSync(file, 'utf8');

const load = (file: string) => parseDocument(read(file)).toJS() as Record<string, any>;

describe('the workflows in .github/workflows', () => {
  it('are the ones docs/delivery.md describes', () => {
    expect(workflowFiles.map((f) => f.slice(WORKFLOWS.length + 1))).toEqual([
      'ci.yml',
      'deploy-env.yml',
      'deploy.yml',
      'plan.yml',
    ]);
  });

  it.each(workflowFiles)('%s is valid against the GitHub Actions workflow schema', (file) => {
    expect(validateSchema(file)).toEqual([]);
  });

  it.each(workflowFiles)('%s follows the rules', (file) => {
    expect(checkWorkflow(file, read(file))).toEqual([]);
  });

  it('pin each action to one SHA everywhere, so an update moves them together', () => {
    const pins = new Map<string, Set<string>>();
    for (const file of workflowFiles) {
      for (const m of read(file).matchAll(/uses:\s*([^@\s]+)@(\S+)/g)) {
        pins.set(m[1]!, (pins.get(m[1]!) ?? new Set()).add(m[2]!));
      }
    }
    const drifted = [...pins].filter(([, shas]) => shas.size > 1).map(([action]) => action);
    expect(drifted).toEqual([]);
  });

  it('swallow no failure in the scripts they run', () => {
    const scripts = readdirSync(SCRIPTS).map((f) => join(SCRIPTS, f));
    expect(scripts.length).toBeGreaterThan(0);
    for (const script of scripts) {
      const source = read(script);
      expect(source, script).toMatch(/^set -euo pipefail$/m);
      expect(SWALLOWED_FAILURE.test(source), `${script} swallows a failure`).toBe(false);
    }
  });

  it('run the whole test suite on Node 20, 22 and 24 with the Pub/Sub emulator installed', () => {
    const test = load(`${WORKFLOWS}/ci.yml`).jobs.test;
    expect(test.strategy.matrix.node).toEqual([20, 22, 24]);
    const steps: Step[] = test.steps;
    const gcloud = steps.find((s) => s.uses?.startsWith('google-github-actions/setup-gcloud@'));
    expect(String(gcloud?.with?.install_components).split(',')).toEqual(
      expect.arrayContaining(['beta', 'pubsub-emulator']),
    );
    expect(steps.some((s) => s.uses?.startsWith('actions/setup-java@'))).toBe(true);
    const runs = steps.map((s) => s.run);
    for (const command of [
      'npm ci',
      'npm run lint',
      'npm run typecheck',
      'npm test',
      'npm run bench -- --quick',
    ]) {
      expect(runs.some((r) => r?.startsWith(command))).toBe(true);
    }
  });

  it('authenticate to Google Cloud only with Workload Identity Federation', () => {
    let auths = 0;
    for (const file of workflowFiles) {
      for (const job of Object.values(load(file).jobs as Record<string, Job>)) {
        for (const step of job.steps ?? []) {
          if (!step.uses?.startsWith('google-github-actions/auth@')) continue;
          auths++;
          expect(Object.keys(step.with ?? {}).sort(), file).toEqual([
            'service_account',
            'workload_identity_provider',
          ]);
        }
      }
    }
    expect(auths).toBe(2);
  });
});

describe("GitFlow routes, evaluated with GitHub's expression library for a repository set up as deploy:bootstrap prints", () => {
  // The variables of a repository whose dev and prod projects were bootstrapped: read from the
  // settings the bootstrap command prints, so the workflows and the guide cannot drift apart.
  const vars: Record<string, string> = {};
  for (const env of ['dev', 'prod'] as const) {
    const settings = githubSettings(
      {
        env,
        project: `acme-ducto-${env}`,
        repo: 'acme/ducto',
        region: DEFAULT_REGION,
        reviewer: ['alice'],
        dryRun: false,
      },
      {
        workload_identity_provider: `${env}-provider`,
        deploy_service_account: `${env}-deploy@x`,
        plan_service_account: `${env}-plan@x`,
        state_bucket: `acme-ducto-${env}-tfstate`,
        image_repository: `${env}-repo`,
      },
    );
    for (const m of settings.matchAll(/^gh variable set (\w+) --repo \S+ --body (\S+)$/gm))
      vars[m[1]!] = m[2]!;
  }
  const deploys = (r: RoutedJob[]) => r.filter((j) => j.environment !== null);
  const plans = (r: RoutedJob[]) => r.filter((j) => j.workflow === 'plan.yml');
  const ci = (r: RoutedJob[]) => r.filter((j) => j.workflow === 'ci.yml').map((j) => j.job);

  it('reads only variables the bootstrap command prints (and the optional TF_VARS_FILE and gateway regions)', () => {
    const used = new Set(
      workflowFiles.flatMap((f) => [...read(f).matchAll(/vars\.(\w+)/g)].map((m) => m[1]!)),
    );
    const optional = new Set(['TF_VARS_FILE', 'DEV_GCP_GATEWAY_REGION', 'PROD_GCP_GATEWAY_REGION']);
    expect(used.size).toBeGreaterThan(10);
    for (const v of used) if (!optional.has(v)) expect(Object.keys(vars), v).toContain(v);
  });

  it('pull request into develop: the checks, and a read-only plan of dev', () => {
    const r = routes({ name: 'pull_request', branch: 'develop' }, vars);
    expect(ci(r)).toEqual(expect.arrayContaining(['test', 'infra', 'dependency-review', 'codeql']));
    expect(deploys(r)).toEqual([]);
    const [plan, ...more] = plans(r);
    expect(more).toEqual([]);
    expect(plan!.auth).toEqual({ workload_identity_provider: 'dev-provider', service_account: 'dev-plan@x' });
    expect(plan!.env).toMatchObject({
      ENV_NAME: 'dev',
      ROOT: 'infra/envs/dev',
      PROJECT: 'acme-ducto-dev',
      STATE_BUCKET: 'acme-ducto-dev-tfstate',
    });
    expect(plan!.steps.some((s) => s.id === 'terraform plan')).toBe(true);
  });

  it('pull request into main (a release): the checks, and a read-only plan of prod', () => {
    const r = routes({ name: 'pull_request', branch: 'main' }, vars);
    expect(deploys(r)).toEqual([]);
    expect(plans(r).map((j) => [j.env.ENV_NAME, j.auth?.service_account])).toEqual([['prod', 'prod-plan@x']]);
  });

  it('pull requests into other branches, from forks (no OIDC token) or from Dependabot plan nothing', () => {
    expect(
      plans(routes({ name: 'pull_request', branch: 'develop', actor: 'dependabot[bot]' }, vars)),
    ).toEqual([]);
    expect(plans(routes({ name: 'pull_request', branch: 'feature/x' }, vars))).toEqual([]);
    const fork = routes({ name: 'pull_request', branch: 'develop', fork: true }, vars);
    expect(plans(fork)).toEqual([]);
    expect(ci(fork)).toContain('test');
  });

  const deployRoute = (branch: string, env: 'dev' | 'prod') => {
    const r = routes({ name: 'push', branch }, vars);
    expect(ci(r)).toContain('test');
    expect(r.find((j) => j.workflow === 'deploy.yml' && j.job === 'build')).toBeDefined();
    const [deploy, ...more] = deploys(r);
    expect(more).toEqual([]);
    expect(deploy!.job).toBe(`${env}/deploy`);
    // The job runs in the GitHub environment (prod waits there for a required reviewer) as that
    // environment's deploy account, with the image the build job made.
    expect(deploy!.environment).toBe(env);
    expect(deploy!.auth).toEqual({
      workload_identity_provider: `${env}-provider`,
      service_account: `${env}-deploy@x`,
    });
    expect(deploy!.env).toMatchObject({
      ROOT: `infra/envs/${env}`,
      PROJECT: `acme-ducto-${env}`,
      IMAGE_REPOSITORY: `${env}-repo`,
    });
    const ids = deploy!.steps.map((s) => s.id);
    const order = ['image', 'plan', 'apply', 'gate', 'rollback', 'regate'].map((id) => ids.indexOf(id));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const step = (id: string) => deploy!.steps.find((s) => s.id === id)!;
    expect(step('rollback').if).toMatch(
      /failure\(\) && \(steps\.apply\.outcome == 'failure' \|\| steps\.gate\.outcome == 'failure'\)/,
    );
    expect(step('regate').if).toMatch(/steps\.rollback\.outcome == 'success'/);
    return deploy!;
  };

  it('push to develop: build, deploy dev with its gate and rollback, nothing else', () => {
    deployRoute('develop', 'dev');
  });

  it("push to main: build, deploy prod (behind the prod environment's reviewers) with its gate and rollback", () => {
    deployRoute('main', 'prod');
    // The bootstrap command sets the reviewers and restricts each environment to its branch.
    const settings = githubSettings(
      {
        env: 'prod',
        project: 'acme-ducto-prod',
        repo: 'acme/ducto',
        region: DEFAULT_REGION,
        reviewer: ['alice'],
        dryRun: false,
      },
      {
        workload_identity_provider: 'p',
        deploy_service_account: 'd',
        plan_service_account: 'l',
        state_bucket: 's',
        image_repository: 'r',
      },
    );
    expect(settings).toMatch(
      /"reviewers": \[\{"type": "User", "id": \$\(gh api users\/alice --jq \.id\)\}\]/,
    );
    expect(settings).toContain('environments/prod/deployment-branch-policies -f name=main -f type=branch');
  });

  it('push to any other branch deploys nothing', () => {
    for (const branch of ['feature/x', 'release/1.0']) {
      expect(routes({ name: 'push', branch }, vars).filter((j) => j.workflow !== 'ci.yml')).toEqual([]);
    }
  });

  it('plans never hold the deploy identity, apply, or take the state lock', () => {
    expect(read(`${WORKFLOWS}/plan.yml`)).not.toMatch(/DEPLOY_SERVICE_ACCOUNT|terraform[^\n]* apply/);
    expect(read(`${WORKFLOWS}/plan.yml`)).toMatch(/plan -lock=false/);
    expect(read(`${SCRIPTS}/post-deploy-gate.sh`)).toMatch(/npm run test:deployed/);
  });

  it('deploy with the image the pipeline built: pushed, then passed to every apply and to the rollback', () => {
    const env = read(`${WORKFLOWS}/deploy-env.yml`);
    expect(env).toMatch(/docker push "\$\{image\}"/);
    expect(env).toMatch(/container_image = "%s"\\n' "\$\{image\}" > "\$\{RUNNER_TEMP\}\/image\.tfvars"/);
    expect(env).toMatch(
      /plan -no-color -out=tfplan[^\n]*\\\n[^\n]*-var-file="\$\{RUNNER_TEMP\}\/image\.tfvars"/,
    );
    expect(env).toMatch(/\$\{IMAGE_REPOSITORY\}\/ducto:\$\{PREVIOUS\}/);
  });
});

describe('.github/dependabot.yml', () => {
  const config = load('.github/dependabot.yml');
  it('updates npm, the actions and every Terraform root', () => {
    const updates = config.updates as {
      'package-ecosystem': string;
      directory?: string;
      directories?: string[];
    }[];
    expect(config.version).toBe(2);
    expect(updates.map((u) => u['package-ecosystem']).sort()).toEqual(['github-actions', 'npm', 'terraform']);
    const terraform = updates.find((u) => u['package-ecosystem'] === 'terraform')!;
    expect(terraform.directories).toEqual(['/infra/bootstrap', '/infra/envs/dev', '/infra/envs/prod']);
    for (const dir of terraform.directories!)
      expect(existsSync(join('.', dir, 'versions.tf')), dir).toBe(true);
  });
});

describe('the workflow checker', () => {
  // Each fixture breaks one rule and is otherwise clean: the checker must report that rule alone.
  const expected: Record<string, Rule[]> = {
    'unpinned.yml': ['unpinned-action'],
    'version-comment.yml': ['version-comment'],
    'permissions-missing.yml': ['permissions-missing'],
    'permissions-granted.yml': ['permissions-missing'],
    'broad-permissions.yml': ['broad-permissions'],
    'credentials-json.yml': ['json-key'],
    'continue-on-error.yml': ['continue-on-error'],
    'or-true.yml': ['or-true'],
    'timeout-missing.yml': ['timeout-missing'],
    'concurrency-missing.yml': ['concurrency-missing'],
  };

  it('has a fixture for every rule', () => {
    expect(new Set(Object.values(expected).flat())).toEqual(new Set(RULES.filter((r) => r !== 'yaml')));
    expect(yamlFiles(FIXTURES).map((f) => f.slice(FIXTURES.length + 1))).toEqual(
      [...Object.keys(expected), 'invalid-schema.yml'].sort(),
    );
  });

  it.each(Object.entries(expected))('reports %s', (fixture, rules) => {
    const file = join(FIXTURES, fixture);
    const findings = checkWorkflow(file, read(file));
    expect([...new Set(findings.map((f) => f.rule))]).toEqual(rules);
    // The fixtures are valid workflows: only ducto's rule is broken.
    expect(validateSchema(file)).toEqual([]);
  });

  it('reports what an `|| true` hides, in each of its spellings', () => {
    for (const run of ['npm test || true', 'npm test || :', 'npm test||exit 0', 'set +e\nnpm test']) {
      expect(SWALLOWED_FAILURE.test(run), run).toBe(true);
    }
    for (const run of ['test -f x || exit 1', 'a || b', '[ -z "$x" ] || echo "true"']) {
      expect(SWALLOWED_FAILURE.test(run), run).toBe(false);
    }
  });

  it('rejects a workflow that breaks the schema', () => {
    const errors = validateSchema(join(FIXTURES, 'invalid-schema.yml'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/runs-onn/);
  });

  it('reports YAML that does not parse', () => {
    expect(checkWorkflow('broken.yml', 'jobs: [\n').map((f) => f.rule)).toEqual(['yaml']);
  });
});
