import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BEGIN, END, renderFigures, replaceFigures } from '../bench/doc.ts';
import type { Goal } from '../bench/report.ts';
import { ROOT } from '../support/root.ts';

const doc = readFileSync(join(ROOT, 'docs/performance.md'), 'utf8');
const latest = JSON.parse(readFileSync(join(ROOT, 'bench/results/latest.json'), 'utf8')) as {
  goals: Goal[];
  errors: string[];
  results: Record<string, unknown>;
};

const goalRows = (text: string) =>
  text
    .slice(text.indexOf(BEGIN), text.indexOf(END))
    .split('\n')
    .filter((l) => /^\| (?!part |---)/.test(l));

describe('docs/performance.md figures', () => {
  it('holds the generated block once, between its markers', () => {
    expect(doc.split(BEGIN)).toHaveLength(2);
    expect(doc.split(END)).toHaveLength(2);
    expect(doc.indexOf(BEGIN)).toBeLessThan(doc.indexOf(END));
  });

  it('quotes the goals of bench/results/latest.json, as the bench rendered them', () => {
    const run = { startedAt: '', machine: '', node: '', loadAverage: { start: [], end: [] }, options: '' };
    const expected = goalRows(renderFigures(run, latest.goals, []));
    expect(latest.errors).toEqual([]);
    expect(Object.keys(latest.results).sort()).toEqual(['api', 'faults', 'freshness', 'ingest', 'pages']);
    expect(expected.length).toBeGreaterThanOrEqual(8);
    expect(goalRows(doc)).toEqual(expected);
  });

  it('replaceFigures rewrites only the block, and refuses a file without markers', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ducto-doc-'));
    try {
      const file = join(dir, 'p.md');
      writeFileSync(file, `# T\n\nbefore\n\n${BEGIN}\nold\n${END}\n\nafter\n`);
      const goals: Goal[] = [
        { section: 'ingest', name: 'ducto ÷ peer', target: '≥ 15×', measured: 19.31, unit: '×', met: true },
      ];
      replaceFigures(
        file,
        renderFigures(
          { startedAt: 'T', machine: 'M', node: '20', loadAverage: { start: [1], end: [2] }, options: 'o' },
          goals,
          [{ name: 'ingest', text: 'table' }],
        ),
      );
      const out = readFileSync(file, 'utf8');
      expect(out.startsWith('# T\n\nbefore\n\n')).toBe(true);
      expect(out.endsWith('\n\nafter\n')).toBe(true);
      expect(out).not.toContain('old');
      expect(goalRows(out)).toEqual(['| ingest | ducto ÷ peer | ≥ 15× | 19.3× | ✓ |']);
      writeFileSync(file, 'no markers\n');
      expect(() => replaceFigures(file, 'x')).toThrow(/must hold the bench markers once/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('docs/reliability.md fault figures', () => {
  it('quotes the faults scenario of bench/results/latest.json', () => {
    const reliability = readFileSync(join(ROOT, 'docs/reliability.md'), 'utf8');
    const faults = latest.results.faults as {
      count: number;
      summary: Record<
        'clean' | 'faults',
        { lost: number; duplicated: number; redelivered: number; writeRetries: number }
      >;
      ratios: { faultsVsClean: number };
    };
    const m =
      /([\d,]+)\s+flights\s+per\s+round\s.*?\skept\s+\*\*([\d.]+)×\*\*\s+the\s+healthy\s+throughput;\s+\*\*(\d+)\*\*\s+events\s+lost,\s+\*\*(\d+)\*\*\s+duplicated,\s+\*\*(\d+)\*\*\s+deliveries\s+refused\s+back\s+to\s+Pub\/Sub\s+and\s+\*\*([\d,]+)\*\*\s+writes\s+retried\s+in\s+process/s.exec(
        reliability,
      );
    expect(m, 'the sentence quoting the faults figures').not.toBeNull();
    const [, count, ratio, lost, duplicated, redelivered, retries] = m!;
    expect(Number(count!.replaceAll(',', ''))).toBe(faults.count);
    expect(ratio).toBe(faults.ratios.faultsVsClean.toFixed(2));
    expect(Number(lost)).toBe(faults.summary.faults.lost);
    expect(Number(duplicated)).toBe(faults.summary.faults.duplicated);
    expect(Number(redelivered)).toBe(faults.summary.faults.redelivered);
    expect(Number(retries!.replaceAll(',', ''))).toBe(faults.summary.faults.writeRetries);
  });
});
