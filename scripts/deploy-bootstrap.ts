/**
 * The guided first deploy of one environment project: applies infra/bootstrap (APIs, the state
 * bucket, the image repository, the keyless CI identity) with local state, moves that state into
 * the bucket it created, writes the provider lock files, and prints the GitHub settings the
 * workflows read. From then on a push to `develop` deploys dev and a push to `main` deploys prod.
 *
 *   npm run deploy:bootstrap -- --env dev --project ID --repo OWNER/NAME [--region R] [--dry-run]
 *
 * `--dry-run` prints every command and file it would write, and runs nothing (docs/delivery.md shows
 * one, and a test holds the two equal). A re-run picks up where a failed run stopped: with local
 * state left over it continues that state; with the bucket already there it applies on it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';

/** The region docs/delivery.md#region argues for; the roots' `region` defaults to it (a test checks). */
export const DEFAULT_REGION = 'southamerica-east1';
const BOOTSTRAP = 'infra/bootstrap';
const ROOTS = ['infra/bootstrap', 'infra/envs/dev', 'infra/envs/prod'];
const LOCK_PLATFORMS = ['linux_amd64', 'darwin_amd64', 'darwin_arm64', 'windows_amd64'];
const OVERRIDE = `${BOOTSTRAP}/backend_override.tf`;
const LOCAL_STATE = `${BOOTSTRAP}/terraform.tfstate`;
/** The branch whose workflows may deploy each environment (GitFlow, as the challenge asks). */
export const DEPLOY_BRANCH = { dev: 'develop', prod: 'main' } as const;

export type Env = keyof typeof DEPLOY_BRANCH;

export interface Options {
  env: Env;
  project: string;
  repo: string;
  region: string;
  repoId?: string;
  stateBucket?: string;
  gatewayRegion?: string;
  reviewer: string[];
  /** Let the person who merged approve prod (a repository with one maintainer). */
  allowSelfReview?: boolean;
  dryRun: boolean;
}

/** A step of the bootstrap: a command to run, a file to write, or files to remove. */
export type Action =
  | { kind: 'run'; why: string; argv: string[] }
  | { kind: 'write'; why: string; path: string; content: string }
  | { kind: 'remove'; why: string; paths: string[] };

// GCP project ids: 6 to 30 lowercase letters, digits and hyphens, starting with a letter.
const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
// What a value copied from an example looks like: runs of zeros or x, "example", "changeme"…
const PLACEHOLDER =
  /(^|[-_/])(0{4,}|x{3,}|example|changeme|placeholder|your-?project|my-?project|project-?id|owner)([-_/]|$)/i;
const REPO = /^[A-Za-z0-9][A-Za-z0-9-]*\/[A-Za-z0-9._-]+$/;
const REGION = /^[a-z]+-[a-z]+[0-9]+$/;

/** Why a value cannot be the project id, or null when it can. */
export function projectProblem(project: string): string | null {
  if (!PROJECT_ID.test(project))
    return `"${project}" is not a Google Cloud project id (6 to 30 lowercase letters, digits or hyphens, starting with a letter)`;
  if (PLACEHOLDER.test(project))
    return `"${project}" looks like a placeholder copied from an example: pass the id of your own project`;
  return null;
}

export function repoProblem(repo: string): string | null {
  if (!REPO.test(repo)) return `"${repo}" is not OWNER/NAME`;
  if (PLACEHOLDER.test(repo) || /^(owner|org)\/(name|repo)$/i.test(repo))
    return `"${repo}" looks like a placeholder: pass the repository that will deploy`;
  return null;
}

function validated<T>(check: (v: string) => string | null, map: (v: string) => T = (v) => v as T) {
  return (value: string): T => {
    const problem = check(value);
    if (problem) throw new InvalidArgumentError(problem);
    return map(value);
  };
}

const regionArg = validated((v) =>
  REGION.test(v) ? null : `"${v}" is not a region name such as ${DEFAULT_REGION}`,
);

export function parseOptions(argv: string[]): Options {
  const program = new Command('deploy:bootstrap')
    .description('Bootstrap one environment project for keyless CI deploys, then print the GitHub settings.')
    .addOption(
      new Option('--env <env>', 'environment this project hosts')
        .choices(['dev', 'prod'])
        .makeOptionMandatory(),
    )
    .requiredOption(
      '--project <id>',
      'Google Cloud project of the environment (must exist)',
      validated(projectProblem),
    )
    .requiredOption('--repo <owner/name>', 'GitHub repository that deploys', validated(repoProblem))
    .option(
      '--region <region>',
      'region of the services, data, state bucket and image repository',
      regionArg,
      DEFAULT_REGION,
    )
    .option(
      '--gateway-region <region>',
      "region of API Gateway (default: the roots' gateway_region)",
      regionArg,
    )
    .option(
      '--repo-id <id>',
      'numeric repository id (default: asked with `gh api repos/OWNER/NAME --jq .id`)',
      validated((v) => (/^[0-9]+$/.test(v) ? null : `"${v}" is not a numeric repository id`)),
    )
    .option('--state-bucket <name>', 'Terraform state bucket to create (default <project>-tfstate)')
    .option(
      '--reviewer <login>',
      'GitHub user (or org/team) who approves prod deploys; repeat for several (required with --env prod)',
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .option(
      '--allow-self-review',
      'let a reviewer approve a prod deploy they triggered (a repository with one maintainer)',
      false,
    )
    .option('--dry-run', 'print every command and file without running or writing anything', false)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  program.parse(argv, { from: 'user' });
  const opts = program.opts<Options>();
  if (opts.env === 'prod' && opts.reviewer.length === 0)
    program.error('--env prod needs at least one --reviewer: prod deploys wait for their approval');
  return opts;
}

const stateBucket = (o: Options) => o.stateBucket ?? `${o.project}-tfstate`;
const tf = (root: string, ...args: string[]) => ['terraform', `-chdir=${root}`, ...args];

/**
 * The bootstrap's actions. `resume` says where a previous run stopped: `local` when its local state
 * is still there (continue it, then migrate), `bucket` when the state already lives in the bucket.
 */
export function bootstrapActions(o: Options, resume: 'none' | 'local' | 'bucket', repoId: string): Action[] {
  const vars = [
    `-var-file=${o.env}.tfvars`,
    `-var=project_id=${o.project}`,
    `-var=region=${o.region}`,
    `-var=state_bucket=${stateBucket(o)}`,
    `-var=github_repository=${o.repo}`,
    `-var=github_repository_id=${repoId}`,
  ];
  const actions: Action[] = [];
  if (resume === 'bucket') {
    actions.push(
      {
        kind: 'run',
        why: 'the state is already in the bucket: use it',
        argv: tf(
          BOOTSTRAP,
          'init',
          '-input=false',
          '-reconfigure',
          `-backend-config=bucket=${stateBucket(o)}`,
        ),
      },
      {
        kind: 'run',
        why: 'apply the bootstrap (Terraform asks before changing anything)',
        argv: tf(BOOTSTRAP, 'apply', ...vars),
      },
    );
  } else {
    actions.push(
      {
        kind: 'write',
        why: 'the state bucket does not exist yet: keep this first state locally (file not committed)',
        path: OVERRIDE,
        content: 'terraform {\n  backend "local" {}\n}\n',
      },
      {
        kind: 'run',
        why: 'initialise with local state',
        argv: tf(BOOTSTRAP, 'init', '-input=false', '-reconfigure'),
      },
      {
        kind: 'run',
        why: 'apply the bootstrap (Terraform asks before changing anything)',
        argv: tf(BOOTSTRAP, 'apply', ...vars),
      },
      { kind: 'remove', why: 'back to the gcs backend of versions.tf', paths: [OVERRIDE] },
      {
        kind: 'run',
        why: 'move the state into the bucket the apply created (-force-copy answers yes)',
        argv: tf(
          BOOTSTRAP,
          'init',
          '-input=false',
          '-migrate-state',
          '-force-copy',
          `-backend-config=bucket=${stateBucket(o)}`,
        ),
      },
      {
        kind: 'run',
        why: 'the migrated state answers from the bucket',
        argv: tf(BOOTSTRAP, 'state', 'list'),
      },
      { kind: 'remove', why: 'the local copy is now stale', paths: [LOCAL_STATE, `${LOCAL_STATE}.backup`] },
    );
  }
  if (resume === 'local')
    actions[0] = { ...actions[0]!, why: 'a previous run left local state: continue it' };
  const envRoot = `infra/envs/${o.env}`;
  actions.push(
    {
      kind: 'run',
      why: `${envRoot} on the state bucket`,
      argv: tf(envRoot, 'init', '-input=false', '-reconfigure', `-backend-config=bucket=${stateBucket(o)}`),
    },
    {
      kind: 'run',
      why: `create ${o.env}'s empty state now: the plan account only reads the state, so it could not plan ${o.env} before its first apply`,
      argv: tf(envRoot, 'state', 'list'),
    },
  );
  for (const root of ROOTS) {
    actions.push(
      // bootstrap and this environment's root are initialised above; the other root needs its
      // modules and providers installed.
      ...(root === BOOTSTRAP || root === envRoot
        ? []
        : [
            {
              kind: 'run' as const,
              why: `modules and providers of ${root} (no backend)`,
              argv: tf(root, 'init', '-input=false', '-backend=false'),
            },
          ]),
      {
        kind: 'run',
        why: `${root}/.terraform.lock.hcl for every platform CI and people run on (commit it)`,
        argv: tf(root, 'providers', 'lock', ...LOCK_PLATFORMS.map((p) => `-platform=${p}`)),
      },
    );
  }
  return actions;
}

/** A shell word: bare when safe, in double quotes around a command substitution, else single-quoted. */
const quote = (s: string) =>
  /^[\w@%+=:,./-]+$/.test(s) ? s : s.includes('$(') ? `"${s}"` : `'${s.replaceAll("'", "'\\''")}'`;

export function renderAction(a: Action): string {
  const why = `# ${a.why}`;
  switch (a.kind) {
    case 'run':
      return `${why}\n${a.argv.map(quote).join(' ')}`;
    case 'write':
      return `${why}\ncat > ${a.path} <<'EOF'\n${a.content}EOF`;
    case 'remove':
      return `${why}\nrm -f ${a.paths.join(' ')}`;
  }
}

/** A value printed into the settings: known after a real run, a command substitution in a dry run. */
type Outputs = Record<
  | 'workload_identity_provider'
  | 'deploy_service_account'
  | 'plan_service_account'
  | 'state_bucket'
  | 'image_repository',
  string
>;

const OUTPUT_NAMES: Array<keyof Outputs> = [
  'workload_identity_provider',
  'deploy_service_account',
  'plan_service_account',
  'state_bucket',
  'image_repository',
];

/** What GitHub needs for this environment, as `gh` commands: variables, the environment, secrets. */
export function githubSettings(o: Options, outputs: Outputs): string {
  const P = o.env.toUpperCase();
  const repo = o.repo;
  const variables: Array<[string, string]> = [
    [`${P}_GCP_PROJECT`, o.project],
    [`${P}_GCP_REGION`, o.region],
    ...(o.gatewayRegion ? ([[`${P}_GCP_GATEWAY_REGION`, o.gatewayRegion]] as Array<[string, string]>) : []),
    [`${P}_GCP_WORKLOAD_IDENTITY_PROVIDER`, outputs.workload_identity_provider],
    [`${P}_GCP_DEPLOY_SERVICE_ACCOUNT`, outputs.deploy_service_account],
    [`${P}_GCP_PLAN_SERVICE_ACCOUNT`, outputs.plan_service_account],
    [`${P}_TF_STATE_BUCKET`, outputs.state_bucket],
    [`${P}_IMAGE_REPOSITORY`, outputs.image_repository],
  ];
  const branch = DEPLOY_BRANCH[o.env];
  const reviewers = o.reviewer.map((r) =>
    r.includes('/')
      ? `{"type": "Team", "id": $(gh api orgs/${r.split('/')[0]}/teams/${r.split('/')[1]} --jq .id)}`
      : `{"type": "User", "id": $(gh api users/${r} --jq .id)}`,
  );
  const protection =
    o.env === 'prod'
      ? `"prevent_self_review": ${o.allowSelfReview ? 'false' : 'true'}, "reviewers": [${reviewers.join(', ')}], `
      : '';
  return [
    `# --- GitHub settings for ${o.env} (${repo}) ---`,
    `# Repository variables (none is a secret): the workflows read ${P}_*.`,
    ...variables.map(([k, v]) => `gh variable set ${k} --repo ${repo} --body ${quote(v)}`),
    `# The ${o.env} environment: deploys from ${branch} only${o.env === 'prod' ? ', after a required reviewer approves' : ''}.`,
    `gh api --method PUT repos/${repo}/environments/${o.env} --input - <<EOF`,
    `{${protection}"deployment_branch_policy": {"protected_branches": false, "custom_branch_policies": true}}`,
    'EOF',
    `gh api --method POST repos/${repo}/environments/${o.env}/deployment-branch-policies -f name=${branch} -f type=branch`,
    '# Secrets: none to set. Deploys authenticate with Workload Identity Federation (no key exists),',
    "# and the post-deploy gate reads the system's canary API key itself.",
    `# Commit the provider lock files written above: git add ${ROOTS.map((r) => `${r}/.terraform.lock.hcl`).join(' ')}`,
    `# Then a push to ${branch} deploys ${o.env}: see docs/delivery.md for branch protection.`,
  ].join('\n');
}

function dryRunOutputs(): Outputs {
  return Object.fromEntries(
    OUTPUT_NAMES.map((n) => [n, `$(terraform -chdir=${BOOTSTRAP} output -raw ${n})`]),
  ) as Outputs;
}

/** The dry run's text: what a first run does, in order, then the settings to make on GitHub. */
export function dryRun(o: Options): string {
  const repoId = o.repoId ?? `$(gh api repos/${o.repo} --jq .id)`;
  const lines = [
    `# ducto bootstrap of ${o.env}: project ${o.project}, repository ${o.repo}, region ${o.region} (dry run: nothing runs)`,
    '# the project must exist and your gcloud account must own it; Terraform uses your application default credentials',
    `gcloud projects describe ${o.project} --format='value(projectNumber)'`,
    'gcloud auth application-default print-access-token > /dev/null',
    ...(o.repoId
      ? []
      : [
          '# the identity provider trusts the repository by its numeric id',
          `gh api repos/${o.repo} --jq .id`,
        ]),
    `# a first run (no local state, no bucket ${stateBucket(o)} yet):`,
    ...bootstrapActions(o, 'none', repoId).map(renderAction),
    githubSettings(o, dryRunOutputs()),
  ];
  return `${lines.join('\n')}\n`;
}

function capture(argv: string[]): string {
  return execFileSync(argv[0]!, argv.slice(1), {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

function execute(a: Action): void {
  console.log(`\n${renderAction(a)}`);
  if (a.kind === 'write') writeFileSync(a.path, a.content);
  else if (a.kind === 'remove') for (const p of a.paths) rmSync(p, { force: true });
  else {
    const r = spawnSync(a.argv[0]!, a.argv.slice(1), { stdio: 'inherit' });
    if (r.status !== 0)
      throw new Error(
        `${a.argv.slice(0, 3).join(' ')} failed (exit ${r.status ?? r.signal}): fix the cause and run this command again; it resumes`,
      );
  }
}

function run(o: Options): void {
  for (const tool of ['terraform', 'gcloud', ...(o.repoId ? [] : ['gh'])]) {
    if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0)
      throw new Error(`${tool} is not installed or not on PATH`);
  }
  try {
    capture(['gcloud', 'projects', 'describe', o.project, '--format=value(projectNumber)']);
  } catch {
    throw new Error(
      `project ${o.project} does not exist or your gcloud account cannot see it (gcloud auth login)`,
    );
  }
  if (
    spawnSync('gcloud', ['auth', 'application-default', 'print-access-token'], { stdio: 'ignore' }).status !==
    0
  )
    throw new Error(
      'Terraform uses application default credentials and there are none: gcloud auth application-default login',
    );
  const repoId = o.repoId ?? capture(['gh', 'api', `repos/${o.repo}`, '--jq', '.id']);
  const bucketExists =
    spawnSync(
      'gcloud',
      ['storage', 'buckets', 'describe', `gs://${stateBucket(o)}`, '--format=value(name)'],
      {
        stdio: 'ignore',
      },
    ).status === 0;
  const resume = existsSync(LOCAL_STATE) ? 'local' : bucketExists ? 'bucket' : 'none';
  for (const a of bootstrapActions(o, resume, repoId)) execute(a);
  const outputs = JSON.parse(capture(tf(BOOTSTRAP, 'output', '-json'))) as Record<string, { value: string }>;
  console.log(
    `\n${githubSettings(o, Object.fromEntries(OUTPUT_NAMES.map((n) => [n, outputs[n]!.value])) as Outputs)}`,
  );
}

export function main(argv: string[]): number {
  let o: Options;
  try {
    o = parseOptions(argv);
  } catch (e) {
    return (e as { exitCode?: number }).exitCode ?? 2;
  }
  if (o.dryRun) {
    process.stdout.write(dryRun(o));
    return 0;
  }
  try {
    run(o);
    return 0;
  } catch (e) {
    console.error(`deploy:bootstrap: ${(e as Error).message}`);
    return 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // Paths above are relative to the repository root, where npm runs scripts.
  if (
    !existsSync(join(BOOTSTRAP, 'versions.tf')) ||
    !readFileSync('package.json', 'utf8').includes('"ducto"')
  )
    throw new Error('run it from the repository root: npm run deploy:bootstrap -- …');
  process.exitCode = main(process.argv.slice(2));
}
