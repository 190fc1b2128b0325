/**
 * Every measured figure a doc quotes is held to the results files: a bench run that changes a number
 * fails here until the docs say the new one. A figure is a number with a unit of measurement (ms, MB,
 * msg/s, req/s, ×) in prose or tables; generated blocks and code blocks are left out (bench-doc.test.ts
 * holds the generated block of docs/performance.md). Each figure found must be one this file derives
 * from bench/results/*.json for that doc, or a constant listed with the reason it is not a measurement;
 * each derived figure must be found.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY } from '../src/core/retry.ts';
import { ROOT } from '../support/root.ts';

const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
const json = (path: string) => JSON.parse(read(path));

const latest = json('bench/results/latest.json');
const r = latest.results;
const soak = json('bench/results/soak.json');
const soakLoaded = json('bench/results/soak-loaded.json');

/** `digits` decimals, thousands grouped: `1,234.5` in English, `1.234,5` in Spanish. */
function num(value: number, digits: number, lang: 'en' | 'es'): string {
  const [int, frac] = value.toFixed(digits).split('.');
  const grouped = int!.replace(/\B(?=(\d{3})+(?!\d))/g, lang === 'en' ? ',' : '.');
  return frac === undefined ? grouped : `${grouped}${lang === 'en' ? '.' : ','}${frac}`;
}
const en = (value: number, digits: number, unit: string) => `${num(value, digits, 'en')} ${unit}`;
const es = (value: number, digits: number, unit: string) => `${num(value, digits, 'es')} ${unit}`;

/** The goals' targets (`≥ 20×`, `≤ 200 MB`) as figures, in both languages. */
const goalTargets = (lang: 'en' | 'es'): string[] =>
  (latest.goals as Array<{ target: string }>).flatMap((g) => {
    const m = /([\d.,]+)\s?(×|MB|ms)$/.exec(g.target);
    return m
      ? [`${num(Number(m[1]!.replace(/,/g, '')), (m[1]!.split('.')[1] ?? '').length, lang)} ${m[2]}`]
      : [];
  });

/** The goals of the last full run that were not met. */
const missedGoals = () =>
  (latest.goals as Array<{ measured: number; unit: string; met: boolean }>).filter(
    (g) => !g.met && g.unit.trim(),
  );

interface DocFigures {
  /** Figures derived from the results files, each of which the doc must quote. */
  measured: string[];
  /** Numbers with a unit that are not measurements of this project, and why. */
  constants: Array<[figure: string, why: string]>;
}

const BIGQUERY_REQUEST_LIMIT: [string, string] = ['10 MB', "BigQuery's AppendRows request limit"];
const BURN_RATES: Array<[string, string]> = [
  ['14.4 ×', 'SRE Workbook burn-rate factor (infra/modules/monitoring-spec)'],
  ['6 ×', 'SRE Workbook burn-rate factor'],
  ['3 ×', 'SRE Workbook burn-rate factor'],
];

const DOCS: Record<string, DocFigures> = {
  'docs/desafio.md': {
    measured: [
      es(r.ingest.summary.ducto.msgsPerS, 0, 'msg/s'),
      es(r.ingest.ratios.vsPeer, 1, '×'),
      es(r.api.summary.ducto.rps, 0, 'req/s'),
      es(r.api.ratios.vsStatic, 2, '×'),
      es(r.api.summary.ducto.p99Ms, 1, 'ms'),
      es(r.pages.latency.medianMs['api first page'], 1, 'ms'),
      es(r.pages.latency.medianMs['api deep page'], 1, 'ms'),
      es(r.freshness.results.pull.freshnessMs.p99, 0, 'ms'),
      es(r.freshness.results.direct.freshnessMs.p99, 0, 'ms'),
      es(r.faults.ratios.faultsVsClean, 2, '×'),
      // Every goal the run missed, by its measured value: the answer names what was not met.
      ...missedGoals().map((g) =>
        es(g.measured, g.unit === '×' ? (g.measured >= 10 ? 1 : 2) : 0, g.unit.trim()),
      ),
    ],
    constants: [
      ...goalTargets('es').map((t): [string, string] => [t, 'a goal of the benchmark (latest.json goals)']),
      ['100 ms', 'the cached-latency SLO threshold (checked against Terraform below)'],
      ['50 ×', '"50 × N charts": fifty systems, not a measurement'],
    ],
  },
  'docs/reliability.md': {
    measured: [en(r.freshness.rate, 0, 'msg/s'), en(r.faults.ratios.faultsVsClean, 2, '×')],
    constants: [
      [`${DEFAULT_RETRY_POLICY.baseDelayMs} ms`, 'the retry policy of src/core/retry.ts'],
      BIGQUERY_REQUEST_LIMIT,
      ['80 ×', '"80 × 10": BigQuery concurrent query quota arithmetic'],
    ],
  },
  'docs/performance.md': {
    measured: [
      en(r.freshness.rate, 0, 'msg/s'),
      en(r.freshness.pollMs, 0, 'ms'),
      `~${en(soak.probe.maxRate, 0, 'msgs/s')}`,
      `~${en(soakLoaded.probe.maxRate, 0, 'msgs/s')}`,
      en(soak.probe.soakRate, 0, 'msgs/s'),
      en(soakLoaded.probe.soakRate, 0, 'msgs/s'),
      en(soak.memory.lastMinuteMedianMb, 1, 'MB'),
      en(soakLoaded.memory.lastMinuteMedianMb, 1, 'MB'),
      ...goalTargets('en'),
    ],
    constants: [
      ['4 ×', '"move 2–4×": the spread between runs, a description of noise'],
      ['28 MB', 'growth per million rows of the quiet soak (soak.json, derived in the text)'],
      ['47 MB', 'bench/index-memory.ts runs, quoted as a range'],
      ['26 MB', 'bench/index-memory.ts runs, quoted as a range'],
      ['500 msgs/s', 'a probe step rate of the soak'],
    ],
  },
  'docs/bigquery.md': {
    measured: [],
    constants: [
      BIGQUERY_REQUEST_LIMIT,
      [`${DEFAULT_RETRY_POLICY.baseDelayMs} ms`, 'the retry policy of src/core/retry.ts'],
      ['76 MB', 'cost arithmetic: 76 bytes a row × 1,000,000 rows a day'],
      ['84 MB', 'cost arithmetic: a day of partitions with row overhead'],
      ['30 ×', 'cost arithmetic: thirty days'],
      ['1,000,000 ×', 'cost arithmetic: a million rows'],
      ['2.28 ×', 'cost arithmetic: 2.28 × 10⁹ bytes'],
    ],
  },
  'README.md': {
    measured: [],
    constants: [
      BIGQUERY_REQUEST_LIMIT,
      ['15 MB', "DuckDB's ART index size per million keys, an estimate for DUCTO_DUCKDB_MEMORY_LIMIT"],
    ],
  },
  'docs/architecture.md': { measured: [], constants: [BIGQUERY_REQUEST_LIMIT] },
  'infra/README.md': { measured: [], constants: [['300 MB', "DuckDB's native bindings, a package size"]] },
  'docs/observability.md': { measured: [], constants: BURN_RATES },
  'docs/operations.md': { measured: [], constants: BURN_RATES },
};

const FIGURE = /(?<![\w.,])(~?\d[\d.,]*)\s?(ms|msgs?\/s|req\/s|MB|×)(?![\w/])/g;

/** The figures of a markdown text, outside code (blocks and spans) and the generated bench block. */
function figuresOf(markdown: string): string[] {
  const prose = markdown
    .replace(/<!-- bench:begin[\s\S]*?<!-- bench:end -->/g, '')
    .replace(/```[\s\S]*?```/g, '')
    .replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(FIGURE)].map((m) => `${m[1]} ${m[2]}`);
}

describe('figures in the docs', () => {
  it('finds figures with their units, and formats numbers per language', () => {
    expect(
      figuresOf('ingest 8.490 msg/s, p99 7,1 ms and 0,61×; `x 3 ms` stays code\n```\n5 ms\n```'),
    ).toEqual(['8.490 msg/s', '7,1 ms', '0,61 ×']);
    expect(figuresOf('in 2024 there were 12 servers at v1.2')).toEqual([]);
    expect(num(10687.76, 0, 'es')).toBe('10.688');
    expect(num(0.6075, 2, 'es')).toBe('0,61');
    expect(num(1234.5, 1, 'en')).toBe('1,234.5');
  });

  const docs = [
    'README.md',
    'infra/README.md',
    ...readdirSync(join(ROOT, 'docs')).map((f) => `docs/${f}`),
  ].filter((f) => f.endsWith('.md'));
  it.each(docs)('%s quotes only figures of the results files, and all of those it should', (doc) => {
    const spec = DOCS[doc] ?? { measured: [], constants: [] };
    const found = figuresOf(read(doc));
    const known = new Set([...spec.measured, ...spec.constants.map(([f]) => f)]);
    expect(
      found.filter((f) => !known.has(f)),
      `${doc}: figures not derived from bench/results (stale, or a new figure to declare here)`,
    ).toEqual([]);
    expect(
      spec.measured.filter((f) => !found.includes(f)),
      `${doc}: figures of the results it no longer quotes (update the doc to the new run)`,
    ).toEqual([]);
  });

  it('quotes the cached-latency SLO threshold that Terraform sets', () => {
    const variables = read('infra/modules/monitoring-spec/variables.tf');
    const block = /variable "api_cached_latency_threshold_ms" \{[\s\S]*?default\s*=\s*(\d+)/.exec(variables);
    expect(block, 'monitoring-spec declares api_cached_latency_threshold_ms with a default').not.toBeNull();
    expect(figuresOf(read('docs/desafio.md'))).toContain(`${block![1]} ms`);
  });
});

describe('docs/desafio.md reads in fifteen minutes', () => {
  it('has at most 2,800 words outside code blocks, however they are counted', () => {
    const prose = read('docs/desafio.md').replace(/```[\s\S]*?```/g, '');
    // Strictest: every whitespace-separated token, table pipes and link targets included.
    const tokens = prose.split(/\s+/).filter(Boolean);
    // As read: words with a letter or digit, link targets left out.
    const words = prose
      .replace(/\]\([^)]*\)/g, ']')
      .split(/\s+/)
      .filter((w) => /[\p{L}\p{N}]/u.test(w));
    expect(words.length).toBeGreaterThan(1000);
    expect(tokens.length).toBeLessThanOrEqual(2800);
    expect(words.length).toBeLessThanOrEqual(2600);
  });

  it('is linked from the first lines of the README', () => {
    const head = read('README.md').split('\n').slice(0, 6).join('\n');
    expect(head).toContain('](docs/desafio.md)');
  });

  it('leaves no placeholder anywhere in the docs', () => {
    for (const doc of [
      'README.md',
      'infra/README.md',
      ...readdirSync(join(ROOT, 'docs')).map((f) => `docs/${f}`),
    ]) {
      if (!doc.endsWith('.md')) continue;
      expect(read(doc), doc).not.toMatch(/OWNER\/REPO|«[^»]*»|\bTODO\b|\bTBD\b/);
    }
  });
});
