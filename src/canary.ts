import { randomBytes } from 'node:crypto';
import { createDirectSender, createTopicSender, type Sender } from './publish/senders.ts';

/**
 * The end-to-end check of the challenge's Part 3.1: publish canary events with unique ids through
 * the real ingest path, then poll the API until exactly those events come back with identical
 * content. The same code runs against the local stack in `npm test` and against a deployment after
 * each deploy (`npm run test:deployed`).
 */
export interface CanaryOptions {
  apiUrl: string;
  apiKey?: string;
  /** How events enter: POSTed push envelopes (direct mode) or a Pub/Sub topic (full path). */
  via: { endpoint: string } | { topic: string; emulatorHost?: string };
  dataset?: string;
  count?: number;
  deadlineMs?: number;
  log?: (line: string) => void;
}

export interface CanaryReport {
  runId: string;
  published: number;
  found: number;
  mismatched: Array<{ eventId: string; expected: unknown; got: unknown }>;
  missing: string[];
  /** Publish → all events visible, in milliseconds (null when the deadline passed). */
  visibleAfterMs: number | null;
  ok: boolean;
}

/** A run id as cloud test resources are named: prefix, short random id, timestamp. */
function canaryRunId(now = new Date()): string {
  return `canary-${randomBytes(3).toString('hex')}-${now.toISOString().replace(/\D/g, '').slice(0, 14)}`;
}

/**
 * Canary flights. Two of them have identical fields: distinct events that only their ids tell
 * apart, as real flights are. Times are whole minutes, so the API's ISO form is predictable.
 */
function canaryEvents(
  runId: string,
  count: number,
  now = Date.now(),
): Array<{ eventId: string; record: Record<string, unknown>; expected: Record<string, unknown> }> {
  const minute = Math.floor(now / 60_000) * 60_000;
  return Array.from({ length: Math.max(2, count) }, (_, i) => {
    const t = new Date(minute - (i === 1 ? 0 : i) * 60_000);
    const record = {
      date: t.toISOString(),
      delay: i === 1 ? 0 : i,
      distance: 100 + (i === 1 ? 0 : i),
      origin: 'ZZZ',
      destination: 'ZZY',
    };
    return {
      eventId: `${runId}-${i}`,
      record,
      expected: { event_id: `${runId}-${i}`, ...record, date: t.toISOString() },
    };
  });
}

/**
 * Sends the canary events with `ducto publish`'s senders: POSTed push envelopes (retrying 429/503 as
 * Pub/Sub would) or published to the topic. Any event not accepted fails the run.
 */
async function publishAll(
  opts: CanaryOptions,
  dataset: string,
  events: ReturnType<typeof canaryEvents>,
): Promise<void> {
  let sender: Sender;
  if ('endpoint' in opts.via) {
    sender = createDirectSender(opts.via.endpoint, 'ducto-canary', 1);
  } else {
    const { topic, emulatorHost } = opts.via;
    const project = /^projects\/([^/]+)\/topics\/[^/]+$/.exec(topic)?.[1];
    if (!project) throw new Error(`the topic must be a full path projects/P/topics/T, got "${topic}"`);
    sender = await createTopicSender({ topic, project, ...(emulatorHost && { emulatorHost }) }, 1);
  }
  try {
    const outcomes = await Promise.all(
      events.map((e) =>
        sender.send({
          dataset,
          data: JSON.stringify(e.record),
          attributes: { event_id: e.eventId, dataset },
        }),
      ),
    );
    const failed = outcomes.findIndex((o) => o.kind !== 'accepted');
    if (failed >= 0) {
      const o = outcomes[failed] as { reason: string };
      throw new Error(`canary ${events[failed]!.eventId} was not accepted: ${o.reason}`);
    }
  } finally {
    await sender.close();
  }
}

export async function runCanary(opts: CanaryOptions): Promise<CanaryReport> {
  const dataset = opts.dataset ?? 'flights';
  const runId = canaryRunId();
  const events = canaryEvents(runId, opts.count ?? 5);
  const log = opts.log ?? (() => {});
  const headers: Record<string, string> = opts.apiKey ? { 'x-api-key': opts.apiKey } : {};
  const started = Date.now();
  await publishAll(opts, dataset, events);
  log(
    `published ${events.length} canary events (${runId}) ${'endpoint' in opts.via ? `to ${opts.via.endpoint}` : `to ${opts.via.topic}`}`,
  );

  const deadline = started + (opts.deadlineMs ?? 60_000);
  const found = new Map<string, unknown>();
  let delay = 100;
  while (found.size < events.length && Date.now() < deadline) {
    for (const e of events) {
      if (found.has(e.eventId)) continue;
      const r = await fetch(`${opts.apiUrl}/v1/${dataset}/${encodeURIComponent(e.eventId)}`, {
        headers: { ...headers, 'cache-control': 'no-cache' },
      });
      if (r.status === 200) found.set(e.eventId, ((await r.json()) as { data: unknown }).data);
      else if (r.status !== 404) log(`GET ${e.eventId} answered ${r.status}`);
    }
    if (found.size < events.length) {
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 2_000);
    }
  }
  const visibleAfterMs = found.size === events.length ? Date.now() - started : null;
  // "Exactly those events": each one once, with the content that was published.
  const mismatched = events
    .filter(
      (e) => found.has(e.eventId) && JSON.stringify(found.get(e.eventId)) !== JSON.stringify(e.expected),
    )
    .map((e) => ({ eventId: e.eventId, expected: e.expected, got: found.get(e.eventId) }));
  const missing = events.filter((e) => !found.has(e.eventId)).map((e) => e.eventId);
  let listed = -1;
  if (missing.length === 0) {
    const from = events.map((e) => e.expected.date as string).sort()[0];
    const r = await fetch(
      `${opts.apiUrl}/v1/${dataset}?origin=ZZZ&from=${encodeURIComponent(from!)}&limit=1000`,
      { headers },
    );
    const body = (await r.json()) as { data: Array<{ event_id: string }> };
    listed = body.data.filter((d) => d.event_id.startsWith(`${runId}-`)).length;
  }
  const ok = missing.length === 0 && mismatched.length === 0 && listed === events.length;
  if (listed !== -1 && listed !== events.length)
    log(`the list shows ${listed} canary events, expected ${events.length}`);
  return { runId, published: events.length, found: found.size, mismatched, missing, visibleAfterMs, ok };
}
