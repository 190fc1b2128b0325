/**
 * The ordering check: Terraform creates what nothing orders in parallel, and Google Cloud makes some
 * things usable only a while after they exist. Two rules, on the parsed HCL of infra/ (no provider):
 *
 * - `names-by-reference`: no argument names another managed object by a string Terraform could take
 *   from the resource (a log-based metric type, a service account email, a resource path, a name
 *   rebuilt from the naming pattern of a resource declared elsewhere). A reference is also an
 *   ordering edge; a string is none.
 * - `waits`: what Google Cloud makes eventually consistent waits explicitly, on each root's
 *   dependency graph (scripts/infra-graph.ts): alert policies and SLOs wait, through a time_sleep,
 *   for the log-based metrics they read; a function build waits for every grant to its build
 *   account, a revision for its secret grants, a grant to a service agent for the agent; a managed
 *   service is enabled after its gateway rolled a config out, and an API key restricted to it after
 *   that. Each wait is a row of WAITS below, with the reason.
 *
 * test/infra-ordering.test.ts runs both on infra/ (no finding allowed) and on copies of infra/ with
 * one known defect put back at a time (each must be found).
 */

import {
  buildGraph,
  type Graph,
  type GraphNode,
  identitiesNamed,
  isResource,
  reachable,
  referencesIn,
  source,
} from './infra-graph.ts';
import { type Body, blocks, INFRA_DIR, loadModules, resources, type TfModule } from './infra-hcl.ts';
import type { Finding } from './infra-policy.ts';

// --- names-by-reference ---------------------------------------------------------------------------

/** Strings that name a managed object Terraform could have given by reference. */
const NAMED_BY_STRING: Array<{ pattern: RegExp; why: string }> = [
  {
    pattern: /logging\.googleapis\.com\/user\/(?!\$\{)/,
    why: 'spells out a log-based metric type: take it from the google_logging_metric (through its wait)',
  },
  {
    pattern: /gserviceaccount\.com/,
    why: 'builds a service account email: take .email or .member from the google_service_account or google_project_service_identity',
  },
  {
    pattern:
      /projects\/(?:\$\{[^}]*\}|[^/"\s$]+)\/(?:topics|subscriptions|serviceAccounts|secrets|schemas|locations\/(?:\$\{[^}]*\}|[^/"\s$]+)\/(?:functions|services|repositories|gateways|apis))\//,
    why: "builds a resource path: take the resource's .id",
  },
];

/** Arguments that name the object they are in: where a naming pattern is defined, not used. */
const NAME_ARGUMENTS = new Set([
  'name',
  'account_id',
  'service_id',
  'slo_id',
  'api_id',
  'gateway_id',
  'api_config_id_prefix',
  'dataset_id',
  'table_id',
  'secret_id',
  'repository_id',
  'workload_identity_pool_id',
  'workload_identity_pool_provider_id',
]);

const PLACEHOLDER = '\u0000';

/** The end of the `${…}` that starts at `i` (the index of its closing brace). */
function closing(template: string, i: number): number {
  let depth = 0;
  let quoted = false;
  for (let j = i + 1; j < template.length; j++) {
    const c = template[j];
    if (c === '\\') {
      j++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    else if (!quoted && c === '{') depth++;
    else if (!quoted && c === '}' && --depth === 0) return j;
  }
  return template.length - 1;
}

/** The string literals written inside an expression (`"${name}-api"` in a for expression). */
function literals(expression: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < expression.length; i++) {
    if (expression[i] !== '"') continue;
    let j = i + 1;
    for (; j < expression.length && expression[j] !== '"'; j++) {
      if (expression[j] === '\\') j++;
      else if (expression[j] === '$' && expression[j + 1] === '{') j = closing(expression, j);
    }
    out.push(expression.slice(i + 1, j));
    i = j;
  }
  return out;
}

/**
 * A template's shapes: the template with every interpolation replaced by one placeholder
 * (`${var.name}-api` → `␀-api`), then the shapes of the string literals inside its interpolations.
 */
function shapes(template: string): string[] {
  let out = '';
  const inner: string[] = [];
  for (let i = 0; i < template.length; i++) {
    if (template[i] === '$' && template[i + 1] === '{') {
      const j = closing(template, i);
      for (const l of literals(template.slice(i + 2, j))) inner.push(...shapes(l));
      out += PLACEHOLDER;
      i = j;
    } else out += template[i];
  }
  return [out, ...inner];
}

const shape = (template: string): string => shapes(template)[0]!;

interface Site {
  module: TfModule;
  file: string;
  at: string;
  /** name → value of each argument, with its path. */
  args: Array<{ path: string; value: string; naming: boolean }>;
}

function strings(value: unknown, path: string, out: Array<{ path: string; value: string }>): void {
  if (typeof value === 'string') out.push({ path, value });
  else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) strings(v, `${path}[${i}]`, out);
  } else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value as Record<string, unknown>))
      strings(v, path ? `${path}.${k}` : k, out);
}

/** Resources, module calls, locals and outputs of a module: every place an argument is written. */
function sites(module: TfModule): Site[] {
  const out: Site[] = [];
  const collect = (file: string, at: string, body: Body, topLevelNames: boolean) => {
    const flat: Array<{ path: string; value: string }> = [];
    strings(body, '', flat);
    out.push({
      module,
      file,
      at,
      args: flat.map((a) => ({ ...a, naming: topLevelNames && NAME_ARGUMENTS.has(a.path) })),
    });
  };
  for (const r of resources(module))
    collect(r.file, `${r.kind === 'resource' ? '' : `${r.kind}.`}${r.type}.${r.name}`, r.body, true);
  for (const f of module.files) {
    for (const [name, body] of blocks(f.json, 'module')) collect(f.path, `module.${name}`, body, true);
    for (const [, body] of blocks(f.json, 'locals')) collect(f.path, 'locals', body, false);
    for (const [name, body] of blocks(f.json, 'output'))
      collect(f.path, `output.${name}`, { value: body.value }, false);
  }
  return out;
}

export function namesByReference(modules: TfModule[]): Finding[] {
  const findings: Finding[] = [];
  const all = modules.flatMap(sites);
  // Naming patterns: a name argument mixing a literal word with interpolations (`${var.name}-api`).
  const patterns = new Map<string, string[]>();
  for (const site of all) {
    for (const a of site.args) {
      if (!a.naming) continue;
      const s = shape(a.value);
      if (s.includes(PLACEHOLDER) && /[a-z]{2,}/i.test(s.replaceAll(PLACEHOLDER, ''))) {
        patterns.set(s, [...(patterns.get(s) ?? []), `${site.at}.${a.path} in ${site.module.dir}`]);
      }
    }
  }
  const boundary = (c: string | undefined) => c === undefined || !/[\w-]/.test(c);
  for (const site of all) {
    for (const a of site.args) {
      for (const { pattern, why } of NAMED_BY_STRING) {
        if (pattern.test(a.value))
          findings.push({
            rule: 'names-by-reference',
            file: site.file,
            message: `${site.at}.${a.path} ${why}`,
          });
      }
      if (a.naming) continue;
      for (const [p, defined] of patterns) {
        const definedAt = defined.join(' and ');
        const rebuilt = shapes(a.value).some((s) => {
          for (let i = s.indexOf(p); i !== -1; i = s.indexOf(p, i + 1)) {
            if (boundary(s[i - 1]) && boundary(s[i + p.length])) return true;
          }
          return false;
        });
        if (rebuilt) {
          findings.push({
            rule: 'names-by-reference',
            file: site.file,
            message: `${site.at}.${a.path} rebuilds the name "${p.replaceAll(PLACEHOLDER, '*')}" of ${definedAt}: take it from that resource (an output)`,
          });
        }
      }
    }
  }
  return findings;
}

// --- waits ---------------------------------------------------------------------------------------

const IAM = /_iam_(member|binding)$/;

/** A create that Google Cloud checks against grants made just before, and so must wait for them. */
const IDENTITY_WAITS: Array<{ type: string; path: string[]; roles: 'all' | string[]; why: string }> = [
  {
    type: 'google_cloudfunctions2_function',
    path: ['build_config', 'service_account'],
    roles: 'all',
    why: 'the build runs as this account at once and fails without its grants (source, registry, logs)',
  },
  {
    type: 'google_cloudfunctions2_function',
    path: ['service_config', 'service_account_email'],
    roles: ['roles/secretmanager.secretAccessor'],
    why: 'Cloud Run refuses a revision whose account cannot read its secrets',
  },
  {
    type: 'google_cloud_run_v2_service',
    path: ['template', 'service_account'],
    roles: ['roles/secretmanager.secretAccessor'],
    why: 'Cloud Run refuses a revision whose account cannot read its secrets',
  },
];

/** A create Google Cloud refuses until another resource exists and has taken effect. */
const PREREQUISITES: Array<{ type: string; attribute: string; reads: string; needs: string[]; why: string }> =
  [
    {
      type: 'google_project_service',
      attribute: 'service',
      reads: 'google_api_gateway_api',
      needs: ['google_api_gateway_api_config', 'google_api_gateway_gateway'],
      why: "an API Gateway API's managed service can be enabled once a config is rolled out to a gateway",
    },
    {
      type: 'google_apikeys_key',
      attribute: 'restrictions',
      reads: 'google_api_gateway_api',
      needs: ['google_project_service'],
      why: 'a key is restricted to a service enabled in its project',
    },
  ];

/** The value at a path of nested blocks (hcl2json: a block is a list of bodies), dynamic blocks included. */
function at(body: unknown, path: string[]): unknown {
  let v: unknown = body;
  for (const key of path) {
    if (!v || typeof v !== 'object') return undefined;
    const b = v as Record<string, unknown>;
    let next = b[key];
    if (next === undefined && b.dynamic)
      next =
        (source(b.dynamic).length > 0 ? b.dynamic : undefined) && (b.dynamic as Record<string, unknown>)[key];
    v = Array.isArray(next) && next.length > 0 && typeof next[0] === 'object' ? next[0] : next;
  }
  return v;
}

function typed(graph: Graph, ids: Iterable<string>, type: string | RegExp): GraphNode[] {
  return [...ids]
    .map((id) => graph.nodes.get(id))
    .filter(isResource)
    .filter((n) => (typeof type === 'string' ? n.type === type : type.test(n.type)));
}

/** Is there a time_sleep among `from`'s dependencies that itself depends on every one of `targets`? */
function waitsThroughSleep(graph: Graph, from: GraphNode, targets: GraphNode[]): boolean {
  const sleeps = typed(graph, reachable(graph, from.id), 'time_sleep');
  return sleeps.some((t) => {
    const after = reachable(graph, t.id);
    return targets.every((g) => after.has(g.id));
  });
}

function roleOf(node: GraphNode): string {
  const role = (node.body as Body).role;
  return typeof role === 'string' ? role : '';
}

export function waits(graph: Graph): Finding[] {
  const findings: Finding[] = [];
  const report = (n: GraphNode, message: string) =>
    findings.push({ rule: 'waits', file: n.file, message: `${graph.root}: ${n.id} ${message}` });
  const nodes = [...graph.nodes.values()].filter(isResource);

  // Log-based metrics before the alert policies and SLOs that read them.
  for (const n of nodes.filter((x) =>
    ['google_monitoring_alert_policy', 'google_monitoring_slo'].includes(x.type),
  )) {
    const deps = reachable(graph, n.id);
    const metrics = typed(graph, deps, 'google_logging_metric');
    const mentions = [n.id, ...deps].some((id) =>
      source(graph.nodes.get(id)?.body).includes('logging.googleapis.com/user/'),
    );
    if (metrics.length === 0 && mentions)
      report(n, 'reads a log-based metric named by a string, not from its google_logging_metric');
    else if (metrics.length > 0 && !waitsThroughSleep(graph, n, metrics))
      report(
        n,
        `reads ${metrics.map((m) => m.id).join(', ')} without a time_sleep after it: Cloud Monitoring answers 404 until a new metric propagates (provider issue 11102)`,
      );
  }

  // Grants a create checks at once, by the identity it names.
  for (const w of IDENTITY_WAITS) {
    for (const n of nodes.filter((x) => x.type === w.type)) {
      const value = at(n.body, w.path);
      if (value === undefined) continue;
      const accounts = identitiesNamed(graph, referencesIn(graph, n, value));
      if (accounts.length === 0) continue;
      const grants = nodes.filter((g) => {
        if (!IAM.test(g.type) || (w.roles !== 'all' && !w.roles.includes(roleOf(g)))) return false;
        const member = (g.body as Body).member ?? (g.body as Body).members;
        const to = identitiesNamed(graph, referencesIn(graph, g, member));
        return accounts.some((a) => to.some((t) => t.id === a.id));
      });
      const deps = reachable(graph, n.id);
      for (const g of grants) {
        if (!deps.has(g.id))
          report(n, `does not wait for ${g.id} (${roleOf(g) || 'a grant'} to ${w.path.join('.')}): ${w.why}`);
      }
      if (grants.length > 0 && grants.every((g) => deps.has(g.id)) && !waitsThroughSleep(graph, n, grants)) {
        report(
          n,
          `waits for the grants to ${w.path.join('.')} but not for them to propagate (a time_sleep after them): ${w.why}`,
        );
      }
    }
  }

  // Grants to a service agent wait for the agent to exist and propagate.
  for (const g of nodes.filter((x) => IAM.test(x.type))) {
    const member = (g.body as Body).member ?? (g.body as Body).members;
    const agents = identitiesNamed(graph, referencesIn(graph, g, member)).filter(
      (a) => a.type === 'google_project_service_identity',
    );
    if (agents.length > 0 && !waitsThroughSleep(graph, g, agents))
      report(
        g,
        `grants to ${agents[0]!.id} without a time_sleep after it: a new service agent is not usable at once`,
      );
  }

  for (const p of PREREQUISITES) {
    for (const n of nodes.filter((x) => x.type === p.type)) {
      const refs = referencesIn(graph, n, (n.body as Body)[p.attribute]);
      const reads = typed(graph, [...refs, ...reachable(graph, refs)], p.reads);
      if (reads.length === 0) continue;
      const deps = reachable(graph, n.id);
      for (const need of p.needs) {
        if (typed(graph, deps, need).length === 0)
          report(n, `is created without waiting for a ${need}: ${p.why}`);
      }
    }
  }
  return findings;
}

export async function checkOrdering(infraDir = INFRA_DIR, base = process.cwd()): Promise<Finding[]> {
  const modules = await loadModules(infraDir, base);
  const roots = modules.filter((m) =>
    m.files.some((f) => blocks(f.json, 'terraform').some(([, b]) => b.backend !== undefined)),
  );
  const findings = namesByReference(modules);
  for (const root of roots) findings.push(...waits(await buildGraph(root.dir, base)));
  return findings;
}

async function main(): Promise<void> {
  const findings = await checkOrdering();
  for (const f of findings) process.stderr.write(`${f.file}: [${f.rule}] ${f.message}\n`);
  process.stdout.write(`ordering: ${findings.length} findings\n`);
  if (findings.length > 0) process.exitCode = 1;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
