/**
 * The cloud diagram of docs/architecture.md may only show what the Terraform creates: every node of
 * its Mermaid block has a row in the table under it, and every Terraform resource type a row names
 * is declared in the directory the row names (parsed with @cdktf/hcl2json, as the infra tests do).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { INFRA_DIR, loadModules, resources } from '../scripts/infra-hcl.ts';
import { ROOT } from '../support/root.ts';

const DOC = 'docs/architecture.md';
/** The mermaid block checked here carries this comment. */
const MARKER = '%% cloud:';
/** The actors outside Google Cloud the diagram may show without a Terraform resource. */
const EXTERNAL = new Set(['producer', 'consumer', 'github']);

/** Opening → closing delimiters of Mermaid flowchart node shapes, longest first. */
const SHAPES: Array<[string, string]> = [
  ['([', '])'],
  ['[(', ')]'],
  ['[[', ']]'],
  ['((', '))'],
  ['[/', '/]'],
  ['[\\', '\\]'],
  ['{{', '}}'],
  ['[', ']'],
  ['(', ')'],
  ['{', '}'],
  ['>', ']'],
];
const KEYWORD = /^(?:flowchart|graph|subgraph|end|direction|classDef|class|style|linkStyle|click)\b/;

/** The node ids of a Mermaid flowchart (subgraph ids are groups, not nodes). */
function flowchartNodes(source: string): Set<string> {
  const nodes = new Set<string>();
  for (const raw of source.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('%%') || KEYWORD.test(line)) continue;
    // Edge labels first (`-->|text|`), then node labels, so that neither is read as ids.
    let rest = line.replace(/\|[^|]*\|/g, ' ');
    let out = '';
    for (let i = 0; i < rest.length; ) {
      const id = /^[A-Za-z_][\w]*/.exec(rest.slice(i));
      if (!id || (i > 0 && /[\w-]/.test(rest[i - 1]!))) {
        out += rest[i];
        i++;
        continue;
      }
      const after = i + id[0].length;
      const shape = SHAPES.find(([open]) => rest.startsWith(open, after));
      if (shape) {
        const close = rest.indexOf(shape[1], after + shape[0].length);
        if (close < 0) throw new Error(`unclosed node label in: ${line}`);
        i = close + shape[1].length;
      } else {
        i = after;
      }
      out += ` ${id[0]} `;
    }
    rest = out;
    for (const token of rest.split(/-->|-\.->|==>|---|-\.-|&|\s+/)) {
      if (/^[A-Za-z_]\w*$/.test(token)) nodes.add(token);
    }
  }
  return nodes;
}

interface Row {
  node: string;
  types: string[];
  dirs: string[];
  external: boolean;
}

/** The checked Mermaid block and the first table after it. */
function cloudDiagram(markdown: string): { nodes: Set<string>; rows: Row[] } {
  const blocks = [...markdown.matchAll(/```mermaid\n([\s\S]*?)```/g)];
  const block = blocks.find((m) => m[1]!.includes(MARKER));
  if (!block) throw new Error(`no mermaid block carries "${MARKER}"`);
  const after = markdown.slice(block.index! + block[0].length);
  const table = /(?:^\|.*\n)+/m.exec(after);
  if (!table) throw new Error('no table follows the cloud diagram');
  const rows: Row[] = [];
  for (const line of table[0].trim().split('\n').slice(2)) {
    const cells = line.split('|').map((c) => c.trim());
    const node = /^`(\w+)`$/.exec(cells[1] ?? '')?.[1];
    const terraform = cells.at(-2) ?? '';
    if (!node) throw new Error(`a row of the node table names no node: ${line}`);
    rows.push({
      node,
      types: [...terraform.matchAll(/`((?:google|random|archive)_\w+)`/g)].map((m) => m[1]!),
      dirs: [...terraform.matchAll(/`(infra\/[\w/.-]+)`/g)].map((m) => m[1]!),
      external: /outside Terraform/i.test(terraform),
    });
  }
  return { nodes: flowchartNodes(block[1]!), rows };
}

/** Resource types declared per directory (`infra/modules/pubsub-dataset` → types). */
type Declared = ReadonlyMap<string, ReadonlySet<string>>;

/** What is wrong with the diagram: empty when every node is a resource the Terraform declares. */
function diagramProblems(markdown: string, declared: Declared): string[] {
  const { nodes, rows } = cloudDiagram(markdown);
  const problems: string[] = [];
  const mapped = new Map(rows.map((r) => [r.node, r]));
  for (const n of nodes) if (!mapped.has(n)) problems.push(`node ${n} has no row in the table`);
  for (const r of rows) {
    if (!nodes.has(r.node)) problems.push(`row ${r.node} is not a node of the diagram`);
    if (r.external) {
      if (!EXTERNAL.has(r.node)) problems.push(`node ${r.node} is not one of the outside actors`);
      continue;
    }
    if (r.types.length === 0) problems.push(`node ${r.node} names no Terraform resource type`);
    if (r.dirs.length === 0) problems.push(`node ${r.node} names no directory under infra/`);
    for (const t of r.types) {
      const where = r.dirs.filter((d) => declared.get(d)?.has(t));
      if (where.length === 0) {
        problems.push(`node ${r.node}: ${t} is not declared in ${r.dirs.join(', ') || 'infra/'}`);
      }
    }
  }
  return problems;
}

describe('the cloud diagram of docs/architecture.md', () => {
  const doc = readFileSync(join(ROOT, DOC), 'utf8');
  const declared = new Map<string, Set<string>>();

  beforeAll(async () => {
    for (const module of await loadModules(join(ROOT, INFRA_DIR), ROOT)) {
      declared.set(module.dir, new Set(resources(module).map((r) => r.type)));
    }
  });

  it('reads the Terraform it checks against', () => {
    expect(declared.get('infra/modules/pubsub-dataset')).toContain('google_pubsub_subscription');
    expect(declared.size).toBeGreaterThan(10);
  });

  it('names only components the Terraform creates, each where the table says', () => {
    expect(diagramProblems(doc, declared)).toEqual([]);
    const { nodes, rows } = cloudDiagram(doc);
    expect(nodes.size).toBeGreaterThan(25);
    const types = new Set(rows.flatMap((r) => r.types));
    for (const t of [
      'google_pubsub_topic',
      'google_pubsub_subscription',
      'google_bigquery_table',
      'google_cloudfunctions2_function',
      'google_api_gateway_gateway',
      'google_monitoring_slo',
      'google_monitoring_alert_policy',
      'google_iam_workload_identity_pool',
      'google_artifact_registry_repository',
      'google_service_account',
    ]) {
      expect(types, t).toContain(t);
    }
  });

  it('shows every module of infra/modules that creates resources', () => {
    const named = new Set(cloudDiagram(doc).rows.flatMap((r) => r.dirs));
    const creating = [...declared].filter(([dir, t]) => dir.startsWith('infra/modules/') && t.size > 0);
    expect(creating.length).toBeGreaterThan(5);
    for (const [dir] of creating) expect(named, `${dir} is in no row of the node table`).toContain(dir);
  });

  it('fails on a node the Terraform does not create', () => {
    const doctored = doc
      .replace(`${MARKER}`, `${MARKER}\n  spanner[(Cloud Spanner instance)]\n  api --> spanner\n  %%`)
      .replace(
        '| `producer` |',
        '| `spanner` | a relational store | `google_spanner_instance` in `infra/modules/system` |\n| `producer` |',
      );
    expect(cloudDiagram(doctored).nodes).toContain('spanner');
    expect(diagramProblems(doctored, declared)).toEqual([
      'node spanner: google_spanner_instance is not declared in infra/modules/system',
    ]);
  });

  it('fails on a resource declared elsewhere than the row says', () => {
    const doctored = doc.replace(
      '`google_pubsub_schema` in `infra/modules/pubsub-dataset`',
      '`google_pubsub_schema` in `infra/modules/system`',
    );
    expect(diagramProblems(doctored, declared)).toEqual([
      'node schema: google_pubsub_schema is not declared in infra/modules/system',
    ]);
  });

  it('fails on a node without a row, a row without a node, and an unlisted outside actor', () => {
    const unmapped = doc.replace(`${MARKER}`, `${MARKER}\n  memorystore[(Memorystore)] --> api\n  %%`);
    expect(diagramProblems(unmapped, declared)).toEqual(['node memorystore has no row in the table']);
    const norow = doc.replace(/^\| `dashboards` \|.*\n/m, '');
    expect(diagramProblems(norow, declared)).toEqual(['node dashboards has no row in the table']);
    const stale = doc.replace(
      '| `producer` |',
      '| `ghost` | removed | `google_pubsub_topic` in `infra/modules/pubsub-dataset` |\n| `producer` |',
    );
    expect(diagramProblems(stale, declared)).toEqual(['row ghost is not a node of the diagram']);
    const outside = doc
      .replace(`${MARKER}`, `${MARKER}\n  vendor[a SaaS queue] --> api\n  %%`)
      .replace('| `producer` |', '| `vendor` | a SaaS queue | outside Terraform |\n| `producer` |');
    expect(diagramProblems(outside, declared)).toEqual(['node vendor is not one of the outside actors']);
  });

  it('reads node ids from every flowchart form the diagram may use', () => {
    const nodes = flowchartNodes(
      [
        'flowchart LR',
        '  subgraph g[group]',
        '    a[A: label with b and c] -->|edge text naming d| b[(store)]',
        '    c([c]) -.-> e{{decision}} & f',
        '    h["/metrics"] --> a',
        '  end',
        '  %% z[commented out]',
      ].join('\n'),
    );
    expect([...nodes].sort()).toEqual(['a', 'b', 'c', 'e', 'f', 'h']);
  });
});
