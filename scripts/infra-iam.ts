/**
 * The IAM permission model, offline: what every Terraform type the env roots manage needs
 * (infra/model/iam-types.json), what every predefined role holds (iam-roles.json), and what the
 * pipeline's other steps need (iam-identities.json), held against the roles infra/ grants:
 *
 * - deploy (applies infra/envs/*): every permission to create, refresh, update and delete every
 *   managed type, those its arguments add, and the pipeline's steps (image push, state, gate);
 * - plan (read-only plans of pull requests): every refresh, and reading the state;
 * - build (Cloud Build for the functions): the source in gcf-v2-sources, its logs, the registry;
 * - every role named anywhere is a predefined role the model knows, and every project role the env
 *   roots grant is one the deploy account's conditioned projectIamAdmin may grant.
 *
 * A new resource type, a new argument with a requirement, or a role taken away fails the check
 * until the model says why it is fine.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildGraph,
  type Graph,
  type GraphNode,
  identitiesNamed,
  referencesIn,
  source,
} from './infra-graph.ts';
import { type Body, blocks, INFRA_DIR, loadModules, resources, type TfModule, text } from './infra-hcl.ts';

type Op = 'create' | 'read' | 'update' | 'delete';
const OPS: Op[] = ['create', 'read', 'update', 'delete'];

interface Conditional {
  argument?: string;
  arguments?: string[];
  always?: boolean;
  skip?: string;
  caller?: boolean;
  on: Op[];
  permissions: string[];
  why: string;
}
interface TypeEntry {
  permissions: Record<Op, string[]>;
  conditional: Conditional[];
  sources: string[];
  notes?: string;
}
interface Step {
  step: string;
  permissions: string[];
  scope: 'project' | 'state-bucket' | 'registry' | 'gcf-v2-sources';
}
export interface IamModel {
  types: Record<string, TypeEntry>;
  roles: Record<string, { permissions: string[] }>;
  notRoles: Record<string, { why: string }>;
  prefixes: string[];
  steps: { build: Step[]; deploy: Step[]; plan: Step[] };
}

export function loadIamModel(base = process.cwd()): IamModel {
  const read = (f: string) => JSON.parse(readFileSync(join(base, 'infra/model', f), 'utf8'));
  const roles = read('iam-roles.json');
  return {
    types: read('iam-types.json').types,
    roles: roles.roles,
    notRoles: roles.not_roles,
    prefixes: roles.prefixes,
    steps: read('iam-identities.json'),
  };
}

/** A role held by an identity, where, and under which IAM condition. */
export interface Grant {
  role: string;
  scope: 'project' | 'state-bucket' | 'bucket' | 'registry';
  condition: string | null;
  at: string;
}

/** What the identities hold and what the env roots manage, as infra/ declares it. */
export interface Declared {
  deploy: Grant[];
  plan: Grant[];
  build: Grant[];
  grantable: string[];
  /** Every project-level role the env roots grant (google_project_iam_member). */
  projectGrants: Array<{ role: string; at: string }>;
  /** Every role named anywhere in infra/. */
  rolesNamed: Array<{ role: string; at: string }>;
  /** Managed types of the env roots (`data.x` and `ephemeral.x` for those kinds), with their bodies. */
  managed: Map<string, Body[]>;
}

function listDefault(modules: TfModule[], dir: string, name: string): string[] {
  const m = modules.find((x) => x.dir === dir);
  const v = m?.files.flatMap((f) => blocks(f.json, 'variable')).find(([n]) => n === name)?.[1];
  return Array.isArray(v?.default) ? (v.default as string[]) : [];
}

/** A module call's argument if literal, else the module variable's default. */
function argOrDefault(
  modules: TfModule[],
  callerDir: string,
  call: string,
  moduleDir: string,
  name: string,
): string[] {
  const caller = modules.find((x) => x.dir === callerDir);
  const body = caller?.files.flatMap((f) => blocks(f.json, 'module')).find(([n]) => n === call)?.[1];
  const given = body?.[name];
  if (typeof given === 'string' && /^\$\{var\.(\w+)\}$/.test(given)) {
    return listDefault(modules, callerDir, /^\$\{var\.(\w+)\}$/.exec(given)![1]!);
  }
  if (Array.isArray(given)) return given as string[];
  return listDefault(modules, moduleDir, name);
}

function conditionOf(body: Body): string | null {
  const c = body.condition;
  return Array.isArray(c) && c.length > 0 ? text((c[0] as Body).expression) : null;
}

const IAM = /_iam_(member|binding)$/;

function grantScope(type: string): Grant['scope'] {
  if (type === 'google_project_iam_member') return 'project';
  if (type.startsWith('google_artifact_registry_repository_iam')) return 'registry';
  if (type.startsWith('google_storage_bucket_iam')) return 'bucket';
  return 'project';
}

export async function declared(infraDir = INFRA_DIR, base = process.cwd()): Promise<Declared> {
  const modules = await loadModules(infraDir, base);
  const rel = (p: string) => join(infraDir, p);
  const deployRoles = listDefault(modules, rel('bootstrap'), 'deploy_roles');
  const grantable = listDefault(modules, rel('bootstrap'), 'deploy_grantable_roles');
  const planRoles = argOrDefault(modules, rel('bootstrap'), 'ci', rel('modules/ci-identity'), 'plan_roles');

  const ci = modules.find((m) => m.dir === rel('modules/ci-identity'));
  const ciResources = ci ? resources(ci) : [];
  const stateGrant = (account: string): Grant[] =>
    ciResources
      .filter(
        (r) =>
          r.type === 'google_storage_bucket_iam_member' &&
          text(r.body.member).includes(`google_service_account.${account}.`),
      )
      .map((r) => ({
        role: text(r.body.role),
        scope: 'state-bucket' as const,
        condition: null,
        at: `${r.type}.${r.name}`,
      }));
  const adminGrants: Grant[] = ciResources
    .filter(
      (r) =>
        r.type === 'google_project_iam_member' &&
        text(r.body.role) === 'roles/resourcemanager.projectIamAdmin',
    )
    .map((r) => ({
      role: text(r.body.role),
      scope: 'project',
      condition: conditionOf(r.body),
      at: `${r.type}.${r.name}`,
    }));
  const project = (roles: string[], at: string): Grant[] =>
    roles.map((role) => ({ role, scope: 'project', condition: null, at }));

  const managed = new Map<string, Body[]>();
  const build: Grant[] = [];
  const projectGrants: Declared['projectGrants'] = [];
  const roots = ['envs/dev', 'envs/prod'].map(rel);
  for (const root of roots) {
    const graph = await buildGraph(root, base);
    for (const n of graph.nodes.values()) {
      if (n.kind === 'var' || n.kind === 'local' || n.kind === 'output' || !n.type) continue;
      const key = n.kind === 'resource' ? n.type : `${n.kind}.${n.type}`;
      managed.set(key, [...(managed.get(key) ?? []), n.body as Body]);
      if (n.type === 'google_project_iam_member')
        projectGrants.push({ role: text((n.body as Body).role), at: `${root}: ${n.id}` });
    }
    if (root === roots[0]) build.push(...buildGrants(graph));
  }

  // Roles granted or listed: resources, module arguments, locals, variable defaults (a variable's
  // validation may name a role to refuse it).
  const rolesNamed: Declared['rolesNamed'] = [];
  for (const m of modules) {
    for (const f of m.files) {
      const granted = [
        ...['resource', 'module', 'locals'].map((k) => f.json[k]),
        ...blocks(f.json, 'variable').map(([, v]) => v.default),
      ];
      for (const m2 of source(granted).matchAll(/\broles\/[A-Za-z]+(?:\.[A-Za-z]+)*/g)) {
        rolesNamed.push({ role: m2[0], at: f.path });
      }
    }
  }
  return {
    deploy: [...project(deployRoles, 'bootstrap deploy_roles'), ...adminGrants, ...stateGrant('deploy')],
    plan: [...project(planRoles, 'ci-identity plan_roles'), ...stateGrant('plan')],
    build,
    grantable,
    projectGrants,
    rolesNamed,
    managed,
  };
}

/** The grants to the account every function builds as (build_config.service_account). */
function buildGrants(graph: Graph): Grant[] {
  const functions = [...graph.nodes.values()].filter((n) => n.type === 'google_cloudfunctions2_function');
  const accounts = new Set<string>();
  for (const f of functions) {
    const config = ((f.body as Body).build_config as Body[] | undefined)?.[0];
    for (const a of identitiesNamed(graph, referencesIn(graph, f, config?.service_account)))
      accounts.add(a.id);
  }
  const grants: Grant[] = [];
  for (const g of graph.nodes.values()) {
    if (!g.type || !IAM.test(g.type)) continue;
    const body = g.body as Body;
    const members = identitiesNamed(graph, referencesIn(graph, g as GraphNode, body.member ?? body.members));
    if (!members.some((m) => accounts.has(m.id))) continue;
    grants.push({ role: text(body.role), scope: grantScope(g.type), condition: conditionOf(body), at: g.id });
  }
  return grants;
}

/** Does a body set this argument (a dotted path through nested blocks)? */
function sets(body: Body, path: string): boolean {
  let v: unknown = body;
  for (const key of path.split('.')) {
    if (!v || typeof v !== 'object') return false;
    const b = v as Body;
    let next = b[key];
    if (next === undefined && b.dynamic) {
      const dyn = (Array.isArray(b.dynamic) ? b.dynamic : [b.dynamic]) as Array<Record<string, Body[]>>;
      next = dyn.find((d) => d[key])?.[key]?.[0]?.content;
    }
    if (next === undefined || next === null) return false;
    v = Array.isArray(next) && next.length > 0 && typeof next[0] === 'object' ? next[0] : next;
  }
  return true;
}

function permissionsOf(
  model: IamModel,
  grants: Grant[],
  problems: string[],
  who: string,
): Map<string, Grant[]> {
  const held = new Map<string, Grant[]>();
  for (const g of grants) {
    const role = model.roles[g.role];
    if (!role) {
      problems.push(
        `${who}: ${g.role} (${g.at}) is not a role the model knows${model.notRoles[g.role] ? `: ${model.notRoles[g.role]!.why}` : ''}`,
      );
      continue;
    }
    for (const p of role.permissions) held.set(p, [...(held.get(p) ?? []), g]);
  }
  return held;
}

/** Is a permission held where a step needs it? */
function covers(grants: Grant[] | undefined, scope: Step['scope']): boolean {
  return (grants ?? []).some((g) => {
    // The conditioned projectIamAdmin only covers project IAM changes; it is counted where those are needed.
    if (g.scope === 'project' && g.condition === null) return true;
    if (scope === 'gcf-v2-sources')
      return g.scope === 'project' && g.condition !== null && /gcf-v2-sources-/.test(g.condition);
    if (scope === 'state-bucket') return g.scope === 'state-bucket';
    if (scope === 'registry') return g.scope === 'registry';
    return false;
  });
}

const IAM_ADMIN = new Set(['resourcemanager.projects.getIamPolicy', 'resourcemanager.projects.setIamPolicy']);

export function checkIam(model: IamModel, d: Declared): string[] {
  const problems: string[] = [];
  const outside = (p: string) => !model.prefixes.includes(p.split('.')[0]!);

  for (const { role, at } of d.rolesNamed) {
    if (!model.roles[role])
      problems.push(
        `${at} names ${role}, which is not a role the model knows${model.notRoles[role] ? `: ${model.notRoles[role]!.why}` : ' (add it to infra/model/iam-roles.json)'}`,
      );
  }
  const grantable = new Set(d.grantable);
  for (const { role, at } of d.projectGrants) {
    if (!grantable.has(role))
      problems.push(
        `${at} grants ${role} at project level, which the deploy account may not grant (bootstrap deploy_grantable_roles)`,
      );
  }

  const deploy = permissionsOf(model, d.deploy, problems, 'deploy');
  const plan = permissionsOf(model, d.plan, problems, 'plan');
  const build = permissionsOf(model, d.build, problems, 'build');
  const need = (
    who: string,
    held: Map<string, Grant[]>,
    permission: string,
    scope: Step['scope'],
    why: string,
  ) => {
    if (outside(permission)) {
      problems.push(
        `${who}: ${why} needs ${permission}, outside the services the role data covers (${model.prefixes.join(', ')})`,
      );
      return;
    }
    const grants = held.get(permission);
    // The deploy account holds project IAM changes through its conditioned projectIamAdmin.
    const admin =
      IAM_ADMIN.has(permission) &&
      (grants ?? []).some((g) => g.role === 'roles/resourcemanager.projectIamAdmin');
    if (!admin && !covers(grants, scope))
      problems.push(`${who}: ${why} needs ${permission}${scope === 'project' ? '' : ` on the ${scope}`}`);
  };

  for (const [type, bodies] of [...d.managed].sort(([a], [b]) => a.localeCompare(b))) {
    const entry = model.types[type];
    if (!entry) {
      problems.push(`${type} is managed by the env roots but has no entry in infra/model/iam-types.json`);
      continue;
    }
    if (entry.sources.length === 0) problems.push(`${type}: the model names no source`);
    const all = OPS.every((op) => entry.permissions[op].length === 0);
    if (all && !entry.notes) problems.push(`${type}: no permission at all, and no note saying why`);
    const required = new Map<string, Op[]>();
    for (const op of OPS)
      for (const p of entry.permissions[op]) required.set(p, [...(required.get(p) ?? []), op]);
    for (const c of entry.conditional) {
      if (c.skip !== undefined || c.caller === false) continue;
      const applies =
        c.always === true ||
        (c.argument !== undefined && bodies.some((b) => sets(b, c.argument!))) ||
        (c.arguments !== undefined && bodies.some((b) => c.arguments!.every((a) => sets(b, a))));
      if (applies) for (const p of c.permissions) required.set(p, [...(required.get(p) ?? []), ...c.on]);
    }
    for (const [p, ops] of required) {
      need('deploy', deploy, p, 'project', `${type} (${[...new Set(ops)].join(', ')})`);
      if (ops.includes('read')) need('plan', plan, p, 'project', `refreshing ${type}`);
    }
  }
  for (const s of model.steps.deploy)
    for (const p of s.permissions) need('deploy', deploy, p, s.scope, s.step);
  for (const s of model.steps.plan) for (const p of s.permissions) need('plan', plan, p, s.scope, s.step);
  for (const s of model.steps.build) for (const p of s.permissions) need('build', build, p, s.scope, s.step);
  return problems;
}

async function main(): Promise<void> {
  const problems = checkIam(loadIamModel(), await declared());
  for (const p of problems) process.stderr.write(`${p}\n`);
  process.stdout.write(`iam: ${problems.length} problems\n`);
  if (problems.length > 0) process.exitCode = 1;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
