import { readFileSync, writeFileSync } from 'node:fs';
import { fmt, type Goal } from './report.ts';

export const BEGIN = '<!-- bench:begin — written by `npm run bench`; edit outside these markers -->';
export const END = '<!-- bench:end -->';

export interface RunInfo {
  startedAt: string;
  machine: string;
  node: string;
  loadAverage: { start: number[]; end: number[] };
  options: string;
}

/** The generated part of docs/performance.md: the run, every goal, every scenario's tables. */
export function renderFigures(run: RunInfo, goals: Goal[], sections: Array<{ name: string; text: string }>) {
  const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(' / ');
  const lines = [
    BEGIN,
    '',
    `Run of ${run.startedAt} on ${run.machine}, Node.js ${run.node}; ${run.options}. Load average`,
    `(1/5/15 min) ${load(run.loadAverage.start)} at the start, ${load(run.loadAverage.end)} at the end.`,
    'Raw figures: [bench/results/latest.json](../bench/results/latest.json).',
    '',
    '| part | goal | target | measured | met |',
    '| --- | --- | --- | --- | --- |',
    ...goals.map(
      (g) =>
        `| ${g.section} | ${g.name} | ${g.target} | ${fmt(g.measured)}${g.unit} | ${g.met ? '✓' : '✗'} |`,
    ),
  ];
  for (const s of sections)
    lines.push('', `### ${s.name} (as printed by the run)`, '', '```text', s.text, '```');
  lines.push('', END);
  return lines.join('\n');
}

/** Replaces the text between the markers of `file` (which must hold them once each). */
export function replaceFigures(file: string, figures: string): void {
  const doc = readFileSync(file, 'utf8');
  const begin = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (begin < 0 || end < begin || doc.indexOf(BEGIN, begin + 1) >= 0)
    throw new Error(`${file} must hold the bench markers once, in order`);
  writeFileSync(file, `${doc.slice(0, begin)}${figures}${doc.slice(end + END.length)}`);
}
