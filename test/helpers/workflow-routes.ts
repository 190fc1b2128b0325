/**
 * Which jobs of .github/workflows run for an event, in which GitHub environment and as which Google
 * identity: the workflows' `on:` filters, job `if:` conditions, `needs:`, reusable-workflow inputs and
 * `${{ }}` expressions evaluated with GitHub's own expression library (@actions/expressions), for a
 * repository configured with the variables `npm run deploy:bootstrap` prints.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { data, Evaluator, Lexer, Parser } from '@actions/expressions';
import { parse } from 'yaml';

export interface GithubEvent {
  name: 'push' | 'pull_request' | 'workflow_dispatch';
  /** The branch pushed to, or the pull request's base. */
  branch: string;
  /** For pull requests: whether the head is in this repository (forks get no OIDC token). */
  fork?: boolean;
  /** Who triggered it (default a maintainer). */
  actor?: string;
}

export interface RoutedJob {
  workflow: string;
  job: string;
  environment: string | null;
  /** google-github-actions/auth inputs, evaluated. */
  auth: { workload_identity_provider: string; service_account: string } | null;
  /** Step ids (or names) in order, with their `if:` as written. */
  steps: Array<{ id: string; if?: string }>;
  env: Record<string, string>;
}

type Json = Record<string, any>;

const REPOSITORY = 'acme/ducto';

function evaluate(expression: string, context: Json): unknown {
  const lexer = new Lexer(expression);
  const parser = new Parser(lexer.lex().tokens, Object.keys(context), []);
  const ctx = JSON.parse(JSON.stringify(context), data.reviver) as data.Dictionary;
  const result = new Evaluator(parser.parse(), ctx).evaluate();
  return result.coerceString === undefined ? result : JSON.parse(JSON.stringify(result, data.replacer));
}

/** A value with `${{ }}` expressions: one whole expression keeps its type; inside text, it is a string. */
function template(value: unknown, context: Json): unknown {
  if (typeof value !== 'string') return value;
  const whole = /^\$\{\{(.*)\}\}$/s.exec(value.trim());
  if (whole && !whole[1]!.includes('}}')) return evaluate(whole[1]!, context);
  return value.replace(/\$\{\{(.*?)\}\}/gs, (_, e: string) => String(evaluate(e, context) ?? ''));
}

function truthy(condition: unknown, context: Json): boolean {
  if (condition === undefined) return true;
  const raw = String(condition).trim();
  const e = /^\$\{\{(.*)\}\}$/s.exec(raw)?.[1] ?? raw;
  const v = evaluate(e, context);
  return v === true || (typeof v === 'string' && v !== '') || (typeof v === 'number' && v !== 0);
}

function triggers(on: Json, event: GithubEvent): boolean {
  const spec = on[event.name];
  if (spec === undefined) return false;
  if (spec === null || event.name === 'workflow_dispatch') return true;
  const branches = spec.branches as string[] | undefined;
  return branches === undefined || branches.includes(event.branch);
}

export function routes(
  event: GithubEvent,
  vars: Record<string, string>,
  dir = '.github/workflows',
): RoutedJob[] {
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
  const load = (f: string) => parse(readFileSync(join(dir, f), 'utf8')) as Json;
  const ref = `refs/heads/${event.branch}`;
  const github = {
    event_name: event.name,
    actor: event.actor ?? 'maintainer',
    repository: REPOSITORY,
    ref: event.name === 'pull_request' ? 'refs/pull/1/merge' : ref,
    ref_name: event.name === 'pull_request' ? '1/merge' : event.branch,
    base_ref: event.name === 'pull_request' ? event.branch : '',
    sha: 'c0ffee',
    event:
      event.name === 'pull_request'
        ? {
            pull_request: {
              number: 1,
              head: { sha: 'c0ffee', repo: { full_name: event.fork ? 'someone/ducto' : REPOSITORY } },
            },
          }
        : {},
  };
  const out: RoutedJob[] = [];

  const runJobs = (file: string, workflow: Json, inputs: Json, prefix: string) => {
    const ran = new Set<string>();
    const jobs = Object.entries((workflow.jobs ?? {}) as Record<string, Json>);
    // Jobs in `needs` order: a job runs when its condition holds and everything it needs ran.
    for (let pass = 0; pass < jobs.length; pass++) {
      for (const [id, job] of jobs) {
        if (ran.has(id)) continue;
        const needs = ([] as string[]).concat(job.needs ?? []);
        if (!needs.every((n) => ran.has(n))) continue;
        const context = { github, vars, inputs, env: {}, secrets: {}, matrix: {} };
        if (!truthy(job.if, context)) {
          ran.add(`skipped:${id}`);
          continue;
        }
        ran.add(id);
        if (typeof job.uses === 'string' && job.uses.startsWith('./')) {
          const called = load(job.uses.split('/').pop()!);
          const given = Object.fromEntries(
            Object.entries(job.with ?? {}).map(([k, v]) => [k, template(v, context)]),
          );
          const declared = (called.on?.workflow_call?.inputs ?? {}) as Record<string, Json>;
          const resolved = Object.fromEntries(
            Object.entries(declared).map(([k, spec]) => [k, k in given ? given[k] : (spec.default ?? '')]),
          );
          runJobs(job.uses.split('/').pop()!, called, resolved, `${prefix}${id}/`);
          continue;
        }
        const env = Object.fromEntries(
          Object.entries({ ...(workflow.env ?? {}), ...(job.env ?? {}) }).map(([k, v]) => [
            k,
            String(template(v, context)),
          ]),
        );
        const environment =
          job.environment === undefined
            ? null
            : String(template(job.environment?.name ?? job.environment, context));
        const steps = (job.steps ?? []) as Json[];
        const auth = steps.find((s) => String(s.uses ?? '').startsWith('google-github-actions/auth@'));
        out.push({
          workflow: file,
          job: `${prefix}${id}`,
          environment,
          auth: auth
            ? {
                workload_identity_provider: String(
                  template(auth.with.workload_identity_provider, { ...context, env }),
                ),
                service_account: String(template(auth.with.service_account, { ...context, env })),
              }
            : null,
          steps: steps.map((s) => ({
            id: s.id ?? s.name ?? s.uses ?? String(s.run).split('\n')[0],
            ...(s.if ? { if: String(s.if) } : {}),
          })),
          env,
        });
      }
    }
  };

  for (const file of files) {
    const workflow = load(file);
    if (!triggers(workflow.on ?? {}, event)) continue;
    runJobs(file, workflow, {}, '');
  }
  return out;
}
