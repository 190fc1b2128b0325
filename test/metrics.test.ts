import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blocks, loadModules, text } from '../scripts/infra-hcl.ts';
import type { Stack } from '../src/cli/serve.ts';
import { DuctoError } from '../src/core/errors.ts';
import { createLogger } from '../src/logger.ts';
import { createMetrics } from '../src/metrics.ts';
import { buildRuntime } from '../src/runtime.ts';
import { ROOT } from '../support/root.ts';
import { flightsSample } from './helpers/api-harness.ts';
import { enc, MALFORMED } from './helpers/malformed.ts';
import { push } from './helpers/push-client.ts';
import { stackFactory } from './helpers/stacks.ts';

const stacks = stackFactory('metrics');
afterAll(() => stacks.stopAll());

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses prom-client's text exposition format: `name{a="x",b="y"} value` lines, comments skipped. */
function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

const scrape = async (s: Stack) => {
  const res = await fetch(`${s.apiUrl}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseMetrics(await res.text());
};

/** The value of the one sample with exactly these labels (missing labels must be absent or empty). */
const value = (samples: Sample[], name: string, labels: Record<string, string> = {}) => {
  const found = samples.filter(
    (s) =>
      s.name === name &&
      Object.keys({ ...s.labels, ...labels }).every((k) => (s.labels[k] ?? '') === (labels[k] ?? '')),
  );
  expect(found.length, `${name}${JSON.stringify(labels)}`).toBeLessThanOrEqual(1);
  return found[0]?.value;
};

describe('/metrics after valid, duplicate and malformed messages and API traffic', () => {
  let s: Stack;
  let samples: Sample[];
  const VALID = 6;
  const DUPLICATES = 2;

  beforeAll(async () => {
    s = await stacks.start('counts');
    const records = flightsSample(VALID);
    for (const [i, r] of records.entries()) {
      expect(
        await push(`${s.ingestUrl}/`, JSON.stringify(r), `m-${i}`, {
          event_id: `e-${i}`,
          dataset: 'flights',
        }),
      ).toBe(204);
    }
    // Redeliveries of already stored messages: acknowledged, counted as duplicates.
    for (let i = 0; i < DUPLICATES; i++) {
      const status = await push(`${s.ingestUrl}/`, JSON.stringify(records[i]), `m-${i}`, {
        event_id: `e-${i}`,
        dataset: 'flights',
      });
      expect(status).toBe(204);
    }
    for (const [i, [kind, data]] of MALFORMED.entries()) {
      expect(await push(`${s.ingestUrl}/`, data, `bad-${i}`, { dataset: 'flights' }), kind).toBe(204);
    }

    const get = async (path: string, status: number, headers: Record<string, string> = {}) => {
      const res = await fetch(`${s.apiUrl}${path}`, { headers });
      await res.arrayBuffer();
      expect(res.status, path).toBe(status);
    };
    await get('/v1/flights?limit=5', 200); // miss
    await get('/v1/flights?limit=5', 200); // hit
    await get('/v1/flights?limit=5', 200); // hit
    await get('/v1/flights/stats', 200); // miss
    await get('/v1/flights/e-1', 200); // miss
    await get('/v1/flights?limit=abc', 400); // invalid: fails before it is cached, not a lookup result
    await get('/v1/nope', 404);
    await get('/v1/flights?limit=5', 200, { accept: 'text/csv' }); // a stream: no cache lookup
    await get('/healthz', 200);
    samples = await scrape(s);
  });

  it('counts ingest messages by outcome, with the reason on rejected ones', () => {
    const m = 'ducto_ingest_messages_total';
    expect(value(samples, m, { dataset: 'flights', outcome: 'stored' })).toBe(VALID);
    expect(value(samples, m, { dataset: 'flights', outcome: 'duplicate' })).toBe(DUPLICATES);
    const expected = new Map<string, number>();
    for (const [, , code] of MALFORMED) expected.set(code, (expected.get(code) ?? 0) + 1);
    const rejected = samples.filter((x) => x.name === m && x.labels.outcome === 'rejected');
    expect(Object.fromEntries(rejected.map((x) => [x.labels.reason, x.value]))).toEqual(
      Object.fromEntries(expected),
    );
    expect(rejected.every((x) => x.labels.dataset === 'flights')).toBe(true);
    expect(rejected.reduce((a, x) => a + x.value, 0)).toBe(MALFORMED.length);
    expect(samples.some((x) => x.name === m && x.labels.outcome === 'retried')).toBe(false);
  });

  it('counts API requests by route pattern and status, and cache lookups by result', () => {
    const m = 'ducto_api_requests_total';
    const api = samples.filter((x) => x.name === m);
    expect(Object.fromEntries(api.map((x) => [`${x.labels.route} ${x.labels.status}`, x.value]))).toEqual({
      '/v1/:dataset 200': 4,
      '/v1/:dataset 400': 1,
      '/v1/:dataset 404': 1,
      '/v1/:dataset/stats 200': 1,
      '/v1/:dataset/:event_id 200': 1,
      '/healthz 200': 1,
    });
    // Durations by cache result: only the answers served through the cache have one; the 400, the
    // 404 (an unknown dataset) and the CSV stream are `none`, as /healthz is.
    const durations = samples.filter((x) => x.name === 'ducto_api_request_duration_seconds_count');
    expect(
      Object.fromEntries(durations.map((x) => [`${x.labels.route} ${x.labels.cache}`, x.value])),
    ).toEqual({
      '/v1/:dataset hit': 2,
      '/v1/:dataset miss': 1,
      '/v1/:dataset none': 3,
      '/v1/:dataset/stats miss': 1,
      '/v1/:dataset/:event_id miss': 1,
      '/healthz none': 1,
    });
    // A cache hit of a few ms is within the cached-latency SLO's bucket (le="0.1").
    const hit = { route: '/v1/:dataset', cache: 'hit' };
    expect(value(samples, 'ducto_api_request_duration_seconds_bucket', { ...hit, le: '0.1' })).toBe(2);
    expect(value(samples, 'ducto_cache_requests_total', { result: 'hit' })).toBe(2);
    expect(value(samples, 'ducto_cache_requests_total', { result: 'miss' })).toBe(3);
    expect(value(samples, 'ducto_cache_requests_total', { result: 'shared' })).toBeUndefined();
  });

  it('observes batch sizes, write times and end-to-end latency', () => {
    const batches = value(samples, 'ducto_ingest_batch_size_count', { dataset: 'flights' }) ?? 0;
    expect(batches).toBeGreaterThan(0);
    // Every row went through a batch: valid, duplicate and rejected ones.
    expect(value(samples, 'ducto_ingest_batch_size_sum', { dataset: 'flights' })).toBe(
      VALID + DUPLICATES + MALFORMED.length,
    );
    expect(value(samples, 'ducto_warehouse_write_seconds_count', { dataset: 'flights' })).toBe(batches);
    expect(value(samples, 'ducto_ingest_e2e_latency_seconds_count', { dataset: 'flights' })).toBe(VALID);
    expect(value(samples, 'ducto_warehouse_errors_total', { kind: 'write' })).toBeUndefined();
    expect(value(samples, 'ducto_warehouse_errors_total', { kind: 'read' })).toBeUndefined();
  });

  it('computes freshness on scrape, without /readyz having been called', async () => {
    const age = value(samples, 'ducto_freshness_seconds', { dataset: 'flights' });
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(60);
    await new Promise((r) => setTimeout(r, 1100));
    const later = value(await scrape(s), 'ducto_freshness_seconds', { dataset: 'flights' });
    expect(later! - age!).toBeGreaterThanOrEqual(1);
  });
});

describe('warehouse read failures', () => {
  it('are counted on the API path and on scrape, and freshness keeps ageing', async () => {
    let down = false;
    const fail = () => {
      if (down) throw new DuctoError('warehouse_unavailable', 'down');
    };
    const s = await stacks.start(
      'reads',
      { DUCTO_CACHE_TTL_MS: '0' },
      {
        wrapWarehouse: (w) => ({
          ...w,
          kind: w.kind,
          list: async (...a) => {
            fail();
            return w.list(...a);
          },
          freshness: async (...a) => {
            fail();
            return w.freshness(...a);
          },
        }),
      },
    );
    await push(`${s.ingestUrl}/`, JSON.stringify(flightsSample(1)[0]), 'r-0', { dataset: 'flights' });
    const before = value(await scrape(s), 'ducto_freshness_seconds', { dataset: 'flights' })!;
    expect(before).toBeGreaterThanOrEqual(0);
    down = true;
    expect((await fetch(`${s.apiUrl}/v1/flights`)).status).toBe(503);
    await new Promise((r) => setTimeout(r, 50));
    const samples = await scrape(s);
    // One failed list, plus one failed freshness read per dataset during the scrape.
    expect(value(samples, 'ducto_warehouse_errors_total', { kind: 'read' })).toBe(1 + s.app.schemas.size);
    expect(value(samples, 'ducto_api_requests_total', { route: '/v1/:dataset', status: '503' })).toBe(1);
    expect(value(samples, 'ducto_freshness_seconds', { dataset: 'flights' })).toBeGreaterThan(before);
  });
});

/** A second app on a stack's warehouse, logging to an array of parsed lines. */
async function loggingApp(s: Stack) {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  const runtime = await buildRuntime(s.config, {
    warehouse: s.warehouse,
    schemas: s.app.schemas,
    logger: createLogger('info', sink),
    metrics: createMetrics(undefined, { defaults: false }),
  });
  return { ...runtime, lines };
}

describe('API request log lines', () => {
  it('writes one structured line per request, with route, status, cache result, code and trace', async () => {
    const s = stacks.stacks[0] ?? (await stacks.start('logs'));
    const { app, close, lines } = await loggingApp(s);
    try {
      const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
      const req = (path: string, query = '', headers: Record<string, string> = {}) =>
        app.apiHandler({ method: 'GET', path, query, headers, body: null });
      await req('/v1/flights', 'limit=2', { traceparent: `00-${trace}-00f067aa0ba902b7-01` });
      await req('/v1/flights', 'limit=2');
      await req('/v1/flights', 'limit=x');
      await new Promise((r) => setImmediate(r));
      expect(lines).toHaveLength(3);
      expect(lines[0]).toMatchObject({
        severity: 'INFO',
        message: 'request',
        request: { method: 'GET', route: '/v1/:dataset', status: 200, cache: 'miss' },
        'logging.googleapis.com/trace': `projects/${s.config.project}/traces/${trace}`,
      });
      expect(typeof (lines[0]!.request as { durationMs: unknown }).durationMs).toBe('number');
      expect(lines[1]).toMatchObject({ request: { status: 200, cache: 'hit' } });
      expect(lines[1]).not.toHaveProperty(['logging.googleapis.com/trace']);
      expect(lines[2]).toMatchObject({
        code: 'bad_parameter',
        request: { route: '/v1/:dataset', status: 400 },
      });
      expect(lines[2]!.request).not.toHaveProperty('cache');
      // No rows and no query values in the log.
      expect(JSON.stringify(lines)).not.toMatch(/limit=|"data"/);
    } finally {
      await close();
    }
  });
});

describe('ingest log lines', () => {
  it('writes one line per rejected message, with its reason code and dataset, and still one per batch', async () => {
    const s = stacks.stacks[0] ?? (await stacks.start('logs'));
    const { app, close, lines } = await loggingApp(s);
    const run = `${process.pid}-${Date.now()}`;
    const deliver = (data: Uint8Array, messageId: string, attributes: Record<string, string> = {}) =>
      app.ingest(
        {
          message: { data, attributes: { dataset: 'flights', ...attributes }, messageId, publishTime: null },
          subscription: null,
          topic: null,
        },
        null,
      );
    try {
      const ok = await deliver(enc(JSON.stringify(flightsSample(1)[0])), `ok-${run}`, {
        event_id: `ok-${run}`,
      });
      expect(ok.outcome).toBe('stored');
      for (const [i, [, data]] of MALFORMED.entries()) await deliver(data, `bad-${run}-${i}`);
      // A dataset ducto does not have: kept in the default dataset's rejected table.
      await deliver(enc('{}'), `nowhere-${run}`, { dataset: 'nope' });
      await new Promise((r) => setImmediate(r));

      const rejected = lines.filter((l) => l.message === 'message rejected');
      expect(
        rejected.map((l) => [
          l.code,
          (l.rejected as { dataset: string }).dataset,
          (l.rejected as { messageId: string }).messageId,
        ]),
      ).toEqual([
        ...MALFORMED.map(([, , code], i) => [code, 'flights', `bad-${run}-${i}`]),
        ['unknown_dataset', s.config.defaultDataset, `nowhere-${run}`],
      ]);
      expect(rejected.every((l) => l.severity === 'WARNING')).toBe(true);
      // Never the payload (the oversize one is 70,000 x's) nor its detail.
      expect(JSON.stringify(rejected)).not.toMatch(/xxxxxxxx|LAX|detail/);
      const batches = lines.filter((l) => l.message === 'batch written');
      expect(batches.length).toBeGreaterThan(0);
      const sum = (k: 'rows' | 'rejected') =>
        batches.reduce((a, l) => a + (l.batch as Record<string, number>)[k]!, 0);
      expect([sum('rows'), sum('rejected')]).toEqual([1, MALFORMED.length + 1]);

      // An API answer through the cache and a refused request too, so every kind of line the
      // cloud's log-based metrics read is here.
      for (const query of ['limit=1', 'limit=x'])
        await app.apiHandler({ method: 'GET', path: '/v1/flights', query, headers: {}, body: null });
      await new Promise((r) => setImmediate(r));
      // Every field a log-based metric of infra/modules/monitoring-spec extracts exists in the
      // lines its filter selects.
      const spec = (await loadModules('infra/modules')).find(
        (m) => m.dir === 'infra/modules/monitoring-spec',
      )!;
      const locals = Object.assign(
        {},
        ...spec.files.flatMap((f) => blocks(f.json, 'locals').map(([, b]) => b)),
      );
      const defs = locals.log_metric_defs as Record<
        string,
        { filter: string; value: string | null; labels: Record<string, string> }
      >;
      const checked: string[] = [];
      for (const [name, def] of Object.entries(defs)) {
        const filter = def.filter.replace(/\$\{local\.(\w+)\}/g, (_, k: string) => text(locals[k]));
        const message = /jsonPayload\.message="([^"]+)"/.exec(filter)?.[1];
        if (!message) continue;
        const selected = lines.filter((l) => l.message === message);
        expect(selected.length, name).toBeGreaterThan(0);
        for (const extractor of [def.value, ...Object.values(def.labels)]) {
          const path = /^EXTRACT\(jsonPayload\.([\w.]+)\)$/.exec(extractor ?? '')?.[1];
          if (!path) continue;
          const found = selected.some(
            (l) =>
              path
                .split('.')
                .reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], l) !== undefined,
          );
          expect(found, `${name}: ${extractor}`).toBe(true);
          checked.push(`${name} ${path}`);
        }
      }
      expect(checked).toEqual(
        expect.arrayContaining([
          'ingest-messages-rejected code',
          'ingest-messages-rejected rejected.dataset',
          'api-request-latency request.cache',
          'api-request-latency request.durationMs',
        ]),
      );
    } finally {
      await close();
    }
  });
});

describe('docs/observability.md metrics catalogue', () => {
  it('lists every metric ducto registers (the process defaults aside)', async () => {
    const doc = readFileSync(join(ROOT, 'docs/observability.md'), 'utf8');
    const listed = new Set([...doc.matchAll(/^\| `(ducto_[a-z0-9_]+)` \|/gm)].map((m) => m[1]));
    const registered = (await createMetrics(undefined, { defaults: false }).registry.getMetricsAsJSON()).map(
      (m) => m.name,
    );
    expect(registered.length).toBeGreaterThan(5);
    expect(registered.filter((n) => !listed.has(n))).toEqual([]);
  });
});
