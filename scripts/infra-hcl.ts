/**
 * Reads ducto's Terraform as data: every `.tf` file parsed to JSON with @cdktf/hcl2json (the HCL
 * parser terraform-cdk ships, compiled from HashiCorp's Go parser), so the policy tests, the provider
 * schema check and the README generator all see the same structure without provider downloads.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parse } from '@cdktf/hcl2json';

/** An HCL body as hcl2json returns it: attributes are values, blocks are arrays of bodies. */
export type Body = Record<string, unknown>;

export interface TfFile {
  /** Path relative to the root the files were listed from. */
  path: string;
  text: string;
  json: Body;
}

/** A Terraform module: a directory of `.tf` files (its `.tf` children, not subdirectories). */
export interface TfModule {
  dir: string;
  files: TfFile[];
}

export type ResourceKind = 'resource' | 'data' | 'ephemeral';

export interface Resource {
  kind: ResourceKind;
  type: string;
  name: string;
  body: Body;
  file: string;
}

export const INFRA_DIR = 'infra';

function tfDirs(dir: string): string[] {
  const out: string[] = [];
  const entries = readdirSync(dir).sort();
  if (entries.some((e) => e.endsWith('.tf'))) out.push(dir);
  for (const e of entries) {
    if (e.startsWith('.') || e === 'generated') continue;
    const full = join(dir, e);
    if (statSync(full).isDirectory()) out.push(...tfDirs(full));
  }
  return out;
}

export async function parseFile(path: string, display = path): Promise<TfFile> {
  const text = readFileSync(path, 'utf8');
  return { path: display, text, json: (await parse(display, text)) as Body };
}

/** Every module (directory holding `.tf` files) under `root`, paths relative to `base`. */
export async function loadModules(root: string, base = process.cwd()): Promise<TfModule[]> {
  const modules: TfModule[] = [];
  for (const dir of tfDirs(resolve(base, root))) {
    const names = readdirSync(dir)
      .filter((f) => f.endsWith('.tf'))
      .sort();
    const files = await Promise.all(names.map((f) => parseFile(join(dir, f), relative(base, join(dir, f)))));
    modules.push({ dir: relative(base, dir), files });
  }
  return modules;
}

/** The blocks of one kind in a body (`variable`, `resource`…): hcl2json nests them as label → [body]. */
export function blocks(body: Body, kind: string): Array<[string, Body]> {
  const section = body[kind];
  if (section === undefined || section === null || typeof section !== 'object') return [];
  if (Array.isArray(section)) return section.map((b) => ['', b as Body]);
  const out: Array<[string, Body]> = [];
  for (const [label, list] of Object.entries(section as Record<string, Body[]>)) {
    for (const b of list) out.push([label, b]);
  }
  return out;
}

export function resources(module: TfModule): Resource[] {
  const out: Resource[] = [];
  for (const file of module.files) {
    for (const kind of ['resource', 'data', 'ephemeral'] as const) {
      const section = file.json[kind] as Record<string, Record<string, Body[]>> | undefined;
      for (const [type, named] of Object.entries(section ?? {})) {
        for (const [name, list] of Object.entries(named)) {
          for (const body of list) out.push({ kind, type, name, body, file: file.path });
        }
      }
    }
  }
  return out;
}

/** The first nested block of a kind, literal or `dynamic`: its body (a dynamic block's `content`). */
export function block(body: Body, name: string): Body | undefined {
  const literal = body[name];
  if (Array.isArray(literal) && literal.length > 0) return literal[0] as Body;
  const dynamic = (body.dynamic as Array<Record<string, Body[]>> | Record<string, Body[]> | undefined) ?? {};
  const dyn = (Array.isArray(dynamic) ? dynamic[0] : dynamic)?.[name];
  const content = Array.isArray(dyn) ? (dyn[0]?.content as Body[] | undefined) : undefined;
  return content?.[0];
}

/** An attribute as HCL source-ish text: literal strings as they are, anything else as JSON. */
export function text(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value ?? null);
}

/** `${expr}` → `expr`, for attributes hcl2json wraps whole in an interpolation. */
export function expr(value: unknown): string {
  const s = text(value);
  return s.startsWith('${') && s.endsWith('}') ? s.slice(2, -1) : s;
}
