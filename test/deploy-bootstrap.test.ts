/**
 * The guided first deploy (`npm run deploy:bootstrap`, scripts/deploy-bootstrap.ts): its dry run is
 * what docs/delivery.md shows, runs nothing, refuses placeholders, and does the bootstrap in the
 * order that works (local state, apply, back to the bucket, migrate with the bucket's name).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type Action,
  bootstrapActions,
  dryRun,
  type Options,
  parseOptions,
} from '../scripts/deploy-bootstrap.ts';
import { ROOT } from '../support/root.ts';

/** The invocation docs/delivery.md shows. */
const DOC_ARGS = ['--env', 'dev', '--project', 'acme-ducto-dev', '--repo', 'acme/ducto', '--dry-run'];

function cli(args: string[]) {
  // PATH holds node alone: a dry run that tried to run terraform, gcloud or gh would fail.
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/deploy-bootstrap.ts', ...args], {
    cwd: ROOT,
    env: { PATH: dirname(process.execPath), HOME: process.env.HOME ?? '/tmp' },
    encoding: 'utf8',
  });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

const options = (extra: Partial<Options> = {}): Options => ({
  env: 'dev',
  project: 'acme-ducto-dev',
  repo: 'acme/ducto',
  region: 'southamerica-east1',
  reviewer: [],
  dryRun: true,
  ...extra,
});

describe('npm run deploy:bootstrap -- --dry-run', () => {
  it('prints what docs/delivery.md shows, running nothing', () => {
    const r = cli(DOC_ARGS);
    expect(r.err).toBe('');
    expect(r.status).toBe(0);
    const doc = readFileSync(join(ROOT, 'docs/delivery.md'), 'utf8');
    const block = /<!-- bootstrap-dry-run -->\n```sh\n([\s\S]*?)```\n<!-- \/bootstrap-dry-run -->/.exec(doc);
    expect(
      block,
      'docs/delivery.md has the dry run between <!-- bootstrap-dry-run --> markers',
    ).not.toBeNull();
    expect(block![1]).toBe(r.out);
    expect(doc).toContain(`npm run deploy:bootstrap -- ${DOC_ARGS.join(' ')}`);
  });

  it.each([
    [['--project', 'ducto-dev-000000'], /looks like a placeholder/],
    [['--project', 'my-project'], /looks like a placeholder/],
    [['--project', 'Bad_Id'], /is not a Google Cloud project id/],
    [['--repo', 'example/ducto'], /looks like a placeholder/],
    [['--repo', 'ducto'], /is not OWNER\/NAME/],
    [['--region', 'São Paulo'], /is not a region name/],
    [['--env', 'prod'], /--env prod needs at least one --reviewer/],
  ])('refuses %j', (change, message) => {
    const args = [...DOC_ARGS];
    for (let i = 0; i < change.length; i += 2) {
      const at = args.indexOf(change[i]!);
      if (at === -1) args.push(change[i]!, change[i + 1]!);
      else args[at + 1] = change[i + 1]!;
    }
    const r = cli(args);
    expect(r.status).not.toBe(0);
    expect(r.err).toMatch(message);
    expect(r.out).toBe('');
  });
});

describe('the bootstrap actions', () => {
  const commands = (actions: Action[]) =>
    actions.map((a) =>
      a.kind === 'run'
        ? a.argv.join(' ')
        : a.kind === 'write'
          ? `write ${a.path}`
          : `rm ${a.paths.join(' ')}`,
    );
  const index = (list: string[], pattern: RegExp) => list.findIndex((c) => pattern.test(c));

  it('first run: local state, apply, back to the gcs backend, migrate into the bucket by name, then the lock files', () => {
    const c = commands(bootstrapActions(options(), 'none', '42'));
    const order = [
      /^write infra\/bootstrap\/backend_override\.tf$/,
      /^terraform -chdir=infra\/bootstrap init/,
      /^terraform -chdir=infra\/bootstrap apply -var-file=dev\.tfvars -var=project_id=acme-ducto-dev -var=region=southamerica-east1 -var=state_bucket=acme-ducto-dev-tfstate -var=github_repository=acme\/ducto -var=github_repository_id=42$/,
      /^rm infra\/bootstrap\/backend_override\.tf$/,
      /^terraform -chdir=infra\/bootstrap init -input=false -migrate-state -force-copy -backend-config=bucket=acme-ducto-dev-tfstate$/,
      /^terraform -chdir=infra\/bootstrap state list$/,
      /^rm infra\/bootstrap\/terraform\.tfstate/,
    ].map((p) => index(c, p));
    expect(
      order.every((i) => i >= 0),
      c.join('\n'),
    ).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // The bucket's name is known before the migration: no `terraform output` against an
    // uninitialised backend.
    expect(c.some((x) => x.includes(' output'))).toBe(false);
    // The environment's empty state exists before any pull request is planned, made with the
    // owner's credentials (the plan account cannot write the state).
    const envState = index(c, /^terraform -chdir=infra\/envs\/dev state list$/);
    expect(
      index(
        c,
        /^terraform -chdir=infra\/envs\/dev init -input=false -reconfigure -backend-config=bucket=acme-ducto-dev-tfstate$/,
      ),
    ).toBe(envState - 1);
    expect(envState).toBeGreaterThan(order.at(-1)!);
    expect(c).toContain('terraform -chdir=infra/envs/prod init -input=false -backend=false');
    for (const root of ['infra/bootstrap', 'infra/envs/dev', 'infra/envs/prod']) {
      expect(c).toContain(
        `terraform -chdir=${root} providers lock -platform=linux_amd64 -platform=darwin_amd64 -platform=darwin_arm64 -platform=windows_amd64`,
      );
    }
  });

  it('a re-run applies on the bucket, or continues the local state a failed run left', () => {
    const onBucket = commands(bootstrapActions(options(), 'bucket', '42'));
    expect(onBucket[0]).toBe(
      'terraform -chdir=infra/bootstrap init -input=false -reconfigure -backend-config=bucket=acme-ducto-dev-tfstate',
    );
    expect(onBucket.some((x) => /backend_override|migrate-state/.test(x))).toBe(false);
    const resumed = bootstrapActions(options(), 'local', '42');
    expect(resumed[0]!.why).toMatch(/a previous run left local state/);
    expect(commands(resumed).some((x) => x.includes('-migrate-state'))).toBe(true);
  });

  it('prod deploys from main, dev from develop', () => {
    expect(
      commands(bootstrapActions(options({ env: 'prod', project: 'acme-ducto-prod' }), 'none', '1')),
    ).toContain(
      'terraform -chdir=infra/bootstrap apply -var-file=prod.tfvars -var=project_id=acme-ducto-prod -var=region=southamerica-east1 -var=state_bucket=acme-ducto-prod-tfstate -var=github_repository=acme/ducto -var=github_repository_id=1',
    );
    expect(dryRun(options())).toContain('deployment-branch-policies -f name=develop -f type=branch');
    expect(dryRun(options({ env: 'prod', reviewer: ['alice'] }))).toContain('"prevent_self_review": true');
    expect(dryRun(options({ env: 'prod', reviewer: ['alice'], allowSelfReview: true }))).toContain(
      '"prevent_self_review": false',
    );
    expect(dryRun(options({ env: 'prod', reviewer: ['alice', 'acme/sre'] }))).toContain(
      '"reviewers": [{"type": "User", "id": $(gh api users/alice --jq .id)}, {"type": "Team", "id": $(gh api orgs/acme/teams/sre --jq .id)}]',
    );
  });

  it('parses the flags the guide documents', () => {
    expect(
      parseOptions([
        '--env',
        'prod',
        '--project',
        'acme-ducto-prod',
        '--repo',
        'acme/ducto',
        '--reviewer',
        'a',
        '--reviewer',
        'b',
        '--repo-id',
        '7',
        '--gateway-region',
        'us-east4',
      ]),
    ).toMatchObject({
      env: 'prod',
      reviewer: ['a', 'b'],
      repoId: '7',
      gatewayRegion: 'us-east4',
      region: 'southamerica-east1',
      dryRun: false,
    });
  });
});
