/**
 * Keeps the variable and output tables of every Terraform README in step with its variables.tf and
 * outputs.tf: the tables live between `<!-- BEGIN TFDOC -->` and `<!-- END TFDOC -->` and are
 * generated, never edited. test/infra-docs.test.ts fails when a README differs from what this
 * writes.
 *
 *   npm run infra:docs           # rewrite the tables
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Body, blocks, INFRA_DIR, loadModules, type TfModule, text } from './infra-hcl.ts';

export const BEGIN = '<!-- BEGIN TFDOC -->';
export const END = '<!-- END TFDOC -->';

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').replace(/\(\s+/g, '(').replace(/\s+\)/g, ')').replace(/\|/g, '\\|');
}

/**
 * A type on one line: `${map(string)}` → map(string) (hcl2json wraps type expressions in an
 * interpolation), object attributes separated by commas.
 */
function typeOf(body: Body): string {
  const t = text(body.type ?? 'any');
  const lines = (t.startsWith('${') ? t.slice(2, -1) : t)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  let out = '';
  for (const line of lines) {
    if (out !== '') out += /[{(]$/.test(out) || /^[})]/.test(line) ? ' ' : ', ';
    out += line;
  }
  return oneLine(out);
}

function defaultOf(body: Body): string {
  if (!('default' in body)) return '';
  return `\`${oneLine(JSON.stringify(body.default))}\``;
}

function cell(s: string): string {
  return oneLine(s).trim();
}

/** The generated tables of a module. */
export function renderTables(module: TfModule): string {
  const file = (name: string) => module.files.filter((f) => f.path.endsWith(`/${name}`));
  const vars = file('variables.tf').flatMap((f) => blocks(f.json, 'variable'));
  const outs = file('outputs.tf').flatMap((f) => blocks(f.json, 'output'));
  vars.sort(([a], [b]) => a.localeCompare(b));
  outs.sort(([a], [b]) => a.localeCompare(b));
  const lines = [BEGIN, '', '## Variables', ''];
  if (vars.length === 0) lines.push('None.');
  else {
    lines.push('| name | description | type | required | default |', '|---|---|---|:---:|---|');
    for (const [name, body] of vars) {
      const required = 'default' in body ? '' : '✓';
      lines.push(
        `| \`${name}\` | ${cell(text(body.description ?? ''))} | \`${typeOf(body)}\` | ${required} | ${defaultOf(body)} |`,
      );
    }
  }
  lines.push('', '## Outputs', '');
  if (outs.length === 0) lines.push('None.');
  else {
    lines.push('| name | description | sensitive |', '|---|---|:---:|');
    for (const [name, body] of outs) {
      lines.push(
        `| \`${name}\` | ${cell(text(body.description ?? ''))} | ${body.sensitive === true ? '✓' : ''} |`,
      );
    }
  }
  lines.push('', END);
  return lines.join('\n');
}

export function readmePath(module: TfModule): string {
  return join(module.dir, 'README.md');
}

/** Markdown as Biome formats it (it aligns tables), so `npm run lint` and this agree. */
export function formatMarkdown(path: string, markdown: string): string {
  const r = spawnSync(
    join(process.cwd(), 'node_modules/.bin/biome'),
    ['format', `--stdin-file-path=${path}`],
    {
      input: markdown,
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`biome format ${path} failed: ${r.stderr}`);
  return r.stdout;
}

/** The README with its tables regenerated, not yet formatted; throws when it has no TFDOC markers. */
export function renderReadme(module: TfModule, current: string): string {
  const start = current.indexOf(BEGIN);
  const end = current.indexOf(END);
  if (start === -1 || end < start) throw new Error(`${readmePath(module)} has no ${BEGIN} … ${END} section`);
  return current.slice(0, start) + renderTables(module) + current.slice(end + END.length);
}

/** Table rows without Biome's alignment padding, to compare a README with its rendering. */
export function unpadTables(markdown: string): string {
  const row = (line: string) =>
    line
      .split(/(?<!\\)\|/)
      .map((c) => c.trim().replace(/^(:?)-+(:?)$/, '$1---$2'))
      .join('|');
  return markdown
    .split('\n')
    .map((l) => (l.startsWith('|') ? row(l) : l))
    .join('\n');
}

async function main(): Promise<void> {
  for (const module of await loadModules(INFRA_DIR)) {
    const path = readmePath(module);
    const current = readFileSync(path, 'utf8');
    const next = formatMarkdown(path, renderReadme(module, current));
    if (next !== current) {
      writeFileSync(path, next);
      process.stdout.write(`wrote ${path}\n`);
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
