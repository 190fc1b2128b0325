/**
 * The metric catalogue check: every filter an alert policy, SLO or dashboard of
 * infra/modules/monitoring-spec uses, evaluated by real Terraform (the module needs no provider),
 * is held against infra/model/metrics.json, Google's metric types with their monitored resources
 * and labels:
 *
 * - one metric type, known to the catalogue (or a log-based metric the module defines), not
 *   deprecated; a resource type the metric is written against; only labels that resource type or
 *   metric has, in filters and in group-by fields, and only values a label takes where the
 *   catalogue lists them (`label_values`);
 * - aligners and reducers the metric's kind and value type allow; alert alignment periods within
 *   what alerting accepts; each SLI on the kind of metric its SLO type takes;
 * - every service, subscription and gateway a filter names is one the deployment reports, and
 *   every SLO a burn rate or budget reads is one the module defines.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const CATALOGUE_FILE = 'infra/model/metrics.json';

interface MetricEntry {
  kind: string;
  value_type: string;
  resources: string[];
  labels: string[];
  /** The values a label takes, where Google's reference lists them. */
  label_values?: Record<string, string[]>;
  deprecated?: boolean;
}
interface Rule {
  kinds: string[];
  value_types: string[];
}
export interface Catalogue {
  metrics: Record<string, MetricEntry>;
  not_metrics: Record<string, { why: string }>;
  resources: Record<string, { labels: string[] }>;
  aligners: Record<string, Rule>;
  reducers: Record<string, Rule>;
  slo: Record<string, Rule>;
  alerting: { max_alignment_period_seconds: number; min_alignment_period_seconds: number };
}

export interface SystemNames {
  api_service: string;
  ingest_service: string;
  gateway_id: string;
  datasets: string[];
  subscriptions: string[];
}

interface Aggregation {
  period: string | null;
  aligner: string | null;
  reducer: string | null;
  group_by: string[];
}
interface LogMetric {
  filter: string;
  labels: Record<string, string>;
  kind: string;
  value_type: string;
}
export interface Spec {
  log_metrics: Record<string, LogMetric>;
  slos: Record<string, { system: string; sli: Record<string, string | number | null> }>;
  alerts: Record<string, { conditions: Array<{ filter: string; aggregation: Aggregation }> }>;
  dashboards: Record<string, string>;
}

export function loadCatalogue(base = process.cwd()): Catalogue {
  return JSON.parse(readFileSync(join(base, CATALOGUE_FILE), 'utf8')) as Catalogue;
}

export function terraformAvailable(): boolean {
  return spawnSync('terraform', ['version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Evaluates infra/modules/monitoring-spec of `infraDir` with these systems (and any other inputs of
 * the module, JSON values): the module's outputs. Throws with Terraform's output when it fails, a
 * variable's validation included.
 */
export function evaluateSpec(
  infraDir: string,
  systems: Record<string, SystemNames>,
  inputs: Record<string, unknown> = {},
): {
  spec: Spec;
  logMetricTypes: Record<string, string>;
  sloNames: Record<string, string>;
} {
  const work = mkdtempSync(join(tmpdir(), 'ducto-signals-'));
  try {
    const cli = join(work, 'terraformrc');
    writeFileSync(cli, '');
    const env = { ...process.env, CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1', TF_CLI_CONFIG_FILE: cli };
    const root = join(work, 'root');
    mkdirSync(root);
    // The metric types and SLO names the resources would report, fed back as the module takes them.
    writeFileSync(
      join(root, 'main.tf'),
      `
module "spec" {
  source           = "${resolve(infraDir, 'modules/monitoring-spec')}"
  env              = "test"
  systems          = jsondecode(${JSON.stringify(JSON.stringify(systems))})
${Object.entries(inputs)
  .map(([k, v]) => `  ${k} = jsondecode(${JSON.stringify(JSON.stringify(v))})\n`)
  .join(
    '',
  )}  log_metric_types = { for k, v in module.spec.log_metrics : k => "logging.googleapis.com/user/ducto-\${k}" }
  slo_names        = { for k, v in module.spec.slos : k => "projects/p/services/ducto-\${v.system}/serviceLevelObjectives/\${v.slo}" }
}
output "spec" { value = module.spec }
output "log_metric_types" { value = { for k, v in module.spec.log_metrics : k => "logging.googleapis.com/user/ducto-\${k}" } }
output "slo_names" { value = { for k, v in module.spec.slos : k => "projects/p/services/ducto-\${v.system}/serviceLevelObjectives/\${v.slo}" } }
`,
    );
    for (const args of [
      ['init', '-input=false', '-no-color'],
      ['apply', '-auto-approve', '-input=false', '-no-color'],
    ]) {
      const r = spawnSync('terraform', args, { cwd: root, env, encoding: 'utf8', timeout: 120_000 });
      if (r.status !== 0) throw new Error(`terraform ${args[0]} failed:\n${r.stdout}${r.stderr}`);
    }
    const r = spawnSync('terraform', ['output', '-json'], { cwd: root, env, encoding: 'utf8' });
    const out = JSON.parse(r.stdout) as Record<string, { value: unknown }>;
    return {
      spec: out.spec!.value as Spec,
      logMetricTypes: out.log_metric_types!.value as Record<string, string>,
      sloNames: out.slo_names!.value as Record<string, string>,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// --- filters -----------------------------------------------------------------------------------

export interface Term {
  key: string;
  op: string;
  /** Literal values: a quoted string, or the strings of one_of(…). */
  values: string[];
  /** A function value such as starts_with("…"), with its name. */
  fn?: string;
}

/** Splits a Cloud Monitoring filter into its AND-ed terms (quotes and parentheses respected). */
export function parseFilter(filter: string): Term[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < filter.length; i++) {
    const c = filter[i];
    if (c === '"' && filter[i - 1] !== '\\') quoted = !quoted;
    if (quoted) continue;
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (depth === 0 && filter.startsWith(' AND ', i)) {
      parts.push(filter.slice(start, i));
      start = i + 5;
      i += 4;
    }
  }
  parts.push(filter.slice(start));
  return parts.map((p) => {
    const m = /^\s*([\w.]+)\s*(=|!=|:)\s*(.+?)\s*$/.exec(p);
    if (!m) return { key: p.trim(), op: '', values: [] };
    const [, key, op, raw] = m;
    const strings = [...raw!.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((s) => s[1]!);
    const fn = /^([\w.]+)\(/.exec(raw!)?.[1];
    return { key: key!, op: op!, values: fn && fn !== 'one_of' ? [] : strings, ...(fn ? { fn } : {}) };
  });
}

/** `resource.label.x` and `resource.labels.x` are both accepted; the filters guide documents the plural. */
function labelOf(key: string, scope: 'resource' | 'metric'): string | null {
  const m = new RegExp(`^${scope}\\.labels?\\.(\\w+)$`).exec(key);
  return m ? m[1]! : null;
}

export type Use =
  | { where: string; filter: string; aggregation?: Aggregation; context: 'alert' | 'chart' }
  | { where: string; filter: string; context: 'slo'; sli: string };

const ALIGNED_KIND: Record<string, string> = { ALIGN_RATE: 'GAUGE', ALIGN_DELTA: 'DELTA' };
const ALIGNED_TYPE: Record<string, string> = {
  ALIGN_RATE: 'DOUBLE',
  ALIGN_MEAN: 'DOUBLE',
  ALIGN_COUNT: 'INT64',
};

function seconds(period: string | null): number | null {
  const m = /^(\d+)s$/.exec(period ?? '');
  return m ? Number(m[1]) : null;
}

/** The part of a dashboard widget the check reads (Cloud Monitoring's dashboard JSON). */
interface Widget {
  title?: string;
  xyChart?: { dataSets?: DataSet[] };
  timeSeriesTable?: { dataSets?: DataSet[] };
}
interface DataSet {
  timeSeriesQuery?: {
    timeSeriesFilter?: {
      filter: string;
      aggregation?: {
        alignmentPeriod?: string;
        perSeriesAligner?: string;
        crossSeriesReducer?: string;
        groupByFields?: string[];
      };
    };
  };
}

/** Every filter of the module's signals: SLIs, alert conditions, dashboard charts, with their aggregation. */
export function filtersOf(spec: Spec): Use[] {
  const uses: Use[] = [];
  for (const [k, slo] of Object.entries(spec.slos)) {
    for (const part of ['total', 'bad', 'distribution', 'time_series'] as const) {
      const f = slo.sli[part];
      if (typeof f === 'string')
        uses.push({ where: `slo ${k} ${part}`, filter: f, context: 'slo', sli: String(slo.sli.kind) });
    }
  }
  for (const [k, a] of Object.entries(spec.alerts)) {
    for (const [i, c] of a.conditions.entries()) {
      uses.push({
        where: `alert ${k} condition ${i}`,
        filter: c.filter,
        aggregation: c.aggregation,
        context: 'alert',
      });
    }
  }
  for (const [k, json] of Object.entries(spec.dashboards)) {
    const dashboard = JSON.parse(json) as { mosaicLayout: { tiles: Array<{ widget: Widget }> } };
    for (const tile of dashboard.mosaicLayout.tiles) {
      const chart = tile.widget.xyChart ?? tile.widget.timeSeriesTable;
      for (const ds of chart?.dataSets ?? []) {
        const tsf = ds.timeSeriesQuery?.timeSeriesFilter;
        if (!tsf) continue;
        const agg = tsf.aggregation;
        uses.push({
          where: `dashboard ${k} "${tile.widget.title}"`,
          filter: tsf.filter,
          context: 'chart',
          ...(agg
            ? {
                aggregation: {
                  period: agg.alignmentPeriod ?? null,
                  aligner: agg.perSeriesAligner ?? null,
                  reducer: agg.crossSeriesReducer ?? null,
                  group_by: agg.groupByFields ?? [],
                },
              }
            : {}),
        });
      }
    }
  }

  return uses;
}

/** Every problem the catalogue finds in the module's signals; none is the expected answer. */
export function checkSignals(
  spec: Spec,
  systems: Record<string, SystemNames>,
  logMetricTypes: Record<string, string>,
  sloNames: Record<string, string>,
  catalogue: Catalogue,
): string[] {
  const problems: string[] = [];
  const uses = filtersOf(spec);

  const userMetrics = new Map<string, MetricEntry>();
  for (const [k, m] of Object.entries(spec.log_metrics)) {
    const type = logMetricTypes[k];
    if (!type) {
      problems.push(`log-based metric ${k} has no metric type`);
      continue;
    }
    const resourceTypes = parseFilter(m.filter)
      .filter((t) => t.key === 'resource.type')
      .flatMap((t) => t.values);
    if (resourceTypes.length === 0) problems.push(`log-based metric ${k} does not restrict resource.type`);
    userMetrics.set(type, {
      kind: m.kind,
      value_type: m.value_type,
      resources: resourceTypes,
      labels: Object.keys(m.labels),
    });
  }
  const names = {
    service_name: new Set(Object.values(systems).flatMap((s) => [s.api_service, s.ingest_service])),
    subscription_id: new Set(Object.values(systems).flatMap((s) => s.subscriptions)),
    gateway_id: new Set(Object.values(systems).map((s) => s.gateway_id)),
  };
  const slos = new Set(Object.values(sloNames));

  for (const use of uses) {
    const slo = /^select_slo_\w+\("([^"]+)"/.exec(use.filter);
    if (slo) {
      if (!slos.has(slo[1]!))
        problems.push(`${use.where} reads SLO "${slo[1]}", which the module does not define`);
      continue;
    }
    const terms = parseFilter(use.filter);
    const types = terms.filter((t) => t.key === 'metric.type');
    if (types.length !== 1 || types[0]!.values.length !== 1) {
      problems.push(`${use.where} names ${types.length} metric types (one is required)`);
      continue;
    }
    const type = types[0]!.values[0]!;
    if (catalogue.not_metrics[type]) {
      problems.push(`${use.where} reads ${type}, which is not a metric: ${catalogue.not_metrics[type].why}`);
      continue;
    }
    const metric = catalogue.metrics[type] ?? userMetrics.get(type);
    if (!metric) {
      problems.push(
        `${use.where} reads ${type}, which is neither in ${CATALOGUE_FILE} nor a log-based metric of the module`,
      );
      continue;
    }
    if (metric.deprecated) problems.push(`${use.where} reads ${type}, which Google deprecated`);
    const resourceTypes = terms.filter((t) => t.key === 'resource.type').flatMap((t) => t.values);
    if (resourceTypes.length !== 1) {
      problems.push(`${use.where} does not restrict resource.type to one type (alert policies must)`);
      continue;
    }
    const resource = resourceTypes[0]!;
    if (!metric.resources.includes(resource))
      problems.push(
        `${use.where}: ${type} is written against ${metric.resources.join(', ') || 'nothing'}, not ${resource}`,
      );
    const resourceLabels = new Set(catalogue.resources[resource]?.labels ?? []);
    if (!catalogue.resources[resource])
      problems.push(`${use.where}: monitored resource ${resource} is not in ${CATALOGUE_FILE}`);
    const fields = [
      ...terms.map((t) => ({ key: t.key, term: t as Term | undefined })),
      ...((use.context !== 'slo' && use.aggregation?.group_by) || []).map((key) => ({
        key,
        term: undefined,
      })),
    ];
    for (const { key, term } of fields) {
      if (key === 'metric.type' || key === 'resource.type' || key === 'project') continue;
      const rl = labelOf(key, 'resource');
      const ml = labelOf(key, 'metric');
      if (rl !== null) {
        if (!resourceLabels.has(rl)) problems.push(`${use.where}: ${resource} has no label ${rl}`);
        const known = names[rl as keyof typeof names];
        for (const v of term?.values ?? []) {
          if (known && !known.has(v))
            problems.push(`${use.where}: ${rl} "${v}" is not one the deployment reports`);
        }
      } else if (ml !== null) {
        if (!metric.labels.includes(ml)) problems.push(`${use.where}: ${type} has no label ${ml}`);
        const allowed = metric.label_values?.[ml];
        for (const v of (allowed && term?.values) || []) {
          if (!allowed!.includes(v))
            problems.push(`${use.where}: ${type} label ${ml} never takes "${v}" (${allowed!.join(', ')})`);
        }
      } else problems.push(`${use.where}: unknown filter field ${key}`);
    }
    if (use.context === 'slo') {
      const rule = catalogue.slo[use.sli];
      if (!rule) problems.push(`${use.where}: unknown SLI kind ${use.sli}`);
      else if (!rule.kinds.includes(metric.kind) || !rule.value_types.includes(metric.value_type))
        problems.push(
          `${use.where}: a ${use.sli} SLI needs ${rule.kinds.join('/')} ${rule.value_types.join('/')}, ${type} is ${metric.kind} ${metric.value_type}`,
        );
      continue;
    }
    const agg = use.aggregation;
    if (!agg || agg.aligner === null) continue;
    const aligner = catalogue.aligners[agg.aligner];
    if (!aligner) problems.push(`${use.where}: unknown aligner ${agg.aligner}`);
    else if (!aligner.kinds.includes(metric.kind) || !aligner.value_types.includes(metric.value_type))
      problems.push(
        `${use.where}: ${agg.aligner} does not apply to ${type} (${metric.kind} ${metric.value_type})`,
      );
    const period = seconds(agg.period);
    if (period === null || period < catalogue.alerting.min_alignment_period_seconds)
      problems.push(
        `${use.where}: alignment period ${agg.period} is not at least ${catalogue.alerting.min_alignment_period_seconds}s`,
      );
    else if (use.context === 'alert' && period > catalogue.alerting.max_alignment_period_seconds)
      problems.push(`${use.where}: alignment period ${agg.period} exceeds what alerting accepts`);
    if (agg.reducer) {
      const reducer = catalogue.reducers[agg.reducer];
      const kind =
        ALIGNED_KIND[agg.aligner] ?? (agg.aligner.startsWith('ALIGN_PERCENTILE') ? 'GAUGE' : metric.kind);
      const valueType =
        ALIGNED_TYPE[agg.aligner] ??
        (agg.aligner.startsWith('ALIGN_PERCENTILE') ? 'DOUBLE' : metric.value_type);
      if (!reducer) problems.push(`${use.where}: unknown reducer ${agg.reducer}`);
      else if (!reducer.kinds.includes(kind) || !reducer.value_types.includes(valueType))
        problems.push(
          `${use.where}: ${agg.reducer} does not apply after ${agg.aligner} (${kind} ${valueType})`,
        );
    }
  }
  return problems;
}
