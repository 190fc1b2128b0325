/**
 * Terraform's dependency graph of a root, read from the HCL with no provider: every resource, data
 * source, variable, local, output and module output of the root and of each module it calls (at
 * any depth) is a node, and an edge goes from a node to each node its expression names, as
 * Terraform orders them. Module inputs and outputs are separate nodes, as in Terraform, so a module
 * can feed one of its outputs back into another of its inputs. A module's `depends_on` makes
 * everything inside it depend on what it lists.
 *
 * The ordering rules (scripts/infra-ordering.ts) ask questions of it: does this alert policy wait
 * for the log-based metric it reads, through a time_sleep?
 */
import { readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { type Body, blocks, parseFile, type Resource, resources, type TfModule, text } from './infra-hcl.ts';

export type NodeKind = 'resource' | 'data' | 'ephemeral' | 'var' | 'local' | 'output';

export interface GraphNode {
  /** Terraform's address: `module.system.module.bus.google_pubsub_topic.default`, `module.x.var.y`… */
  id: string;
  kind: NodeKind;
  /** Resource type, for resources, data sources and ephemeral resources. */
  type?: string;
  name: string;
  /** Module address (`module.system.module.bus`, '' for the root). */
  module: string;
  /** Directory of the module that declares it, relative to the working directory. */
  dir: string;
  file: string;
  body: unknown;
}

export interface Graph {
  root: string;
  nodes: Map<string, GraphNode>;
  edges: Map<string, Set<string>>;
}

// A reference: `var.x`, `local.x`, `module.m.o`, `data.t.n`, `ephemeral.t.n` or `<type>.<name>`.
// A module or resource address may carry an index (`module.api[*].uri`, `google_x.y["k"].id`).
const REFERENCE =
  /(?<![\w.$-])(var|local|module|data|ephemeral|[a-z][a-z0-9]*_[a-z0-9_]+)\.([A-Za-z_][\w-]*)(?:\[[^\]]*\])?(?:\.([A-Za-z_][\w-]*))?/g;

async function loadDir(dir: string, base: string): Promise<TfModule> {
  const names = readdirSync(dir)
    .filter((f) => f.endsWith('.tf'))
    .sort();
  const files = await Promise.all(names.map((f) => parseFile(join(dir, f), relative(base, join(dir, f)))));
  return { dir: relative(base, dir), files };
}

/** Every string inside a parsed HCL value, joined: the text references are read from. */
export function source(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object') return '';
  return Object.values(value as Record<string, unknown>)
    .map(source)
    .join('\n');
}

export async function buildGraph(rootDir: string, base = process.cwd()): Promise<Graph> {
  const graph: Graph = { root: relative(base, resolve(base, rootDir)), nodes: new Map(), edges: new Map() };
  const cache = new Map<string, TfModule>();
  const load = async (dir: string) => {
    const key = resolve(base, dir);
    if (!cache.has(key)) cache.set(key, await loadDir(key, base));
    return cache.get(key)!;
  };
  const edge = (from: string, to: string) => {
    if (!graph.edges.has(from)) graph.edges.set(from, new Set());
    graph.edges.get(from)!.add(to);
  };

  /** Adds a module's nodes under `prefix`; `inputs` are the caller's argument expressions. */
  const instantiate = async (
    dir: string,
    prefix: string,
    inputs: { values: Body; scope: (s: string) => string[] } | null,
    waitsFor: string[],
  ): Promise<void> => {
    const module = await load(dir);
    const declared = new Set(resources(module).map((r) => `${r.kind}:${r.type}`));
    const calls = module.files.flatMap((f) =>
      blocks(f.json, 'module').map(([name, body]) => ({ name, body, file: f.path })),
    );
    const outputsOf = new Map<string, string[]>();
    for (const c of calls) {
      const child = await load(join(resolve(base, dir), text(c.body.source)));
      outputsOf.set(
        c.name,
        child.files.flatMap((f) =>
          blocks(f.json, 'output').map(([n]) => `${prefix}module.${c.name}.output.${n}`),
        ),
      );
    }
    /** The nodes an expression names, in this module's scope. */
    const scope = (s: string): string[] => {
      const out: string[] = [];
      for (const m of s.matchAll(REFERENCE)) {
        const [, head, name, third] = m;
        if (head === 'var') out.push(`${prefix}var.${name}`);
        else if (head === 'local') out.push(`${prefix}local.${name}`);
        else if (head === 'module') {
          const outputs = outputsOf.get(name!) ?? [];
          const named = third ? `${prefix}module.${name}.output.${third}` : undefined;
          out.push(...(named && outputs.includes(named) ? [named] : outputs));
        } else if (head === 'data' && third && declared.has(`data:${name}`))
          out.push(`${prefix}data.${name}.${third}`);
        else if (head === 'ephemeral' && third && declared.has(`ephemeral:${name}`))
          out.push(`${prefix}ephemeral.${name}.${third}`);
        else if (declared.has(`resource:${head}`)) out.push(`${prefix}${head}.${name}`);
      }
      return out;
    };
    const add = (node: GraphNode, refs: string[]) => {
      graph.nodes.set(node.id, node);
      for (const r of refs) edge(node.id, r);
    };
    const modulePath = prefix.replace(/\.$/, '');

    for (const r of resources(module)) {
      const id = `${prefix}${r.kind === 'resource' ? '' : `${r.kind}.`}${r.type}.${r.name}`;
      add(
        {
          id,
          kind: r.kind,
          type: r.type,
          name: r.name,
          module: modulePath,
          dir: module.dir,
          file: r.file,
          body: r.body,
        },
        [...scope(source(r.body)), ...waitsFor],
      );
    }
    for (const f of module.files) {
      for (const [name, body] of blocks(f.json, 'variable')) {
        const id = `${prefix}var.${name}`;
        const passed = inputs !== null && name in inputs.values;
        const given = passed ? inputs.scope(source(inputs.values[name])) : [];
        // A variable's value is the caller's expression, or its default.
        const value = passed ? inputs.values[name] : body.default;
        add({ id, kind: 'var', name, module: modulePath, dir: module.dir, file: f.path, body: value }, given);
      }
      for (const [, body] of blocks(f.json, 'locals')) {
        for (const [name, value] of Object.entries(body)) {
          const id = `${prefix}local.${name}`;
          add(
            { id, kind: 'local', name, module: modulePath, dir: module.dir, file: f.path, body: value },
            scope(source(value)),
          );
        }
      }
      for (const [name, body] of blocks(f.json, 'output')) {
        const id = `${prefix}output.${name}`;
        add(
          { id, kind: 'output', name, module: modulePath, dir: module.dir, file: f.path, body },
          scope(source(body.value)),
        );
      }
    }
    for (const c of calls) {
      const { source: src, depends_on: dependsOn, for_each: forEach, count, providers: _p, ...args } = c.body;
      const childPrefix = `${prefix}module.${c.name}.`;
      const meta = scope(source([forEach, count]));
      const waits = [...waitsFor, ...scope(source(dependsOn))];
      await instantiate(
        join(resolve(base, dir), text(src)),
        childPrefix,
        { values: args, scope: (s) => [...scope(s), ...meta] },
        waits,
      );
    }
  };

  await instantiate(rootDir, '', null, []);
  return graph;
}

/** Every node reachable from `from` (not including `from` itself unless on a cycle). */
export function reachable(graph: Graph, from: string | string[]): Set<string> {
  const seen = new Set<string>();
  const stack = [
    ...(Array.isArray(from)
      ? from.flatMap((f) => [...(graph.edges.get(f) ?? [])])
      : (graph.edges.get(from) ?? [])),
  ];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const next of graph.edges.get(id) ?? []) stack.push(next);
  }
  return seen;
}

/** The nodes an expression of `node`'s module names (resolved as in the module, for sub-expressions). */
export function referencesIn(graph: Graph, node: GraphNode, value: unknown): string[] {
  const prefix = node.module === '' ? '' : `${node.module}.`;
  const out: string[] = [];
  for (const m of source(value).matchAll(REFERENCE)) {
    const [, head, name, third] = m;
    const candidates =
      head === 'var' || head === 'local'
        ? [`${prefix}${head}.${name}`]
        : head === 'module'
          ? [...graph.nodes.keys()].filter((k) =>
              third
                ? k === `${prefix}module.${name}.output.${third}`
                : k.startsWith(`${prefix}module.${name}.output.`),
            )
          : head === 'data' || head === 'ephemeral'
            ? [`${prefix}${head}.${name}.${third}`]
            : [`${prefix}${head}.${name}`];
    out.push(...candidates.filter((c) => graph.nodes.has(c)));
  }
  return out;
}

/**
 * The identities an expression names: service accounts and service agents reached through
 * variables, locals, outputs and waits (a time_sleep passes its triggers on), but never through
 * another resource, whose own identities are not the expression's.
 */
export function identitiesNamed(graph: Graph, refs: string[]): GraphNode[] {
  const found = new Map<string, GraphNode>();
  const seen = new Set<string>();
  const stack = [...refs];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const node = graph.nodes.get(id);
    if (!node) continue;
    if (node.type === 'google_service_account' || node.type === 'google_project_service_identity') {
      found.set(id, node);
      continue;
    }
    if (node.kind === 'resource' && node.type !== 'time_sleep') continue;
    const next =
      node.type === 'time_sleep'
        ? referencesIn(graph, node, (node.body as Record<string, unknown>).triggers)
        : [...(graph.edges.get(id) ?? [])];
    stack.push(...next);
  }
  return [...found.values()];
}

export const isResource = (n: GraphNode | undefined): n is GraphNode & { type: string } =>
  n?.kind === 'resource' && typeof n.type === 'string';

export type { Resource };
