/**
 * `ducto replay --rejected`: reads the raw payloads kept in `<dataset>_rejected`, classifies them again
 * with the current schemas (after a producer or schema fix), stores what now passes under the event id
 * ingest would have given it, and marks each rejected row with what the replay did. The order is write
 * then mark: a replay killed in between writes the same events again on the next run, which the
 * warehouse's idempotency on event id turns into duplicates, never into second copies.
 */
import { classify } from './classify.ts';
import type { DatasetSchema } from './dataset-schema.ts';
import { DuctoError, type RejectCode } from './errors.ts';
import { createRecordDecoder } from './record.ts';
import type { Micros } from './time.ts';
import type { EventRow, RejectedRow, ReplayMark, ReplayOutcome, Warehouse } from './warehouse.ts';

export interface RejectedReplayOptions {
  warehouse: Warehouse;
  /** Every dataset the warehouse holds: a message once rejected as `unknown_dataset` may name one now. */
  schemas: ReadonlyMap<string, DatasetSchema>;
  /** The dataset whose `_rejected` table is replayed. */
  dataset: string;
  maxMessageBytes: number;
  /** Only rows with these reason codes; null for all. */
  codes: RejectCode[] | null;
  /** Bounds on when the rows were received (epoch µs): `from` inclusive, `to` exclusive. */
  from: Micros | null;
  to: Micros | null;
  /** Most messages to replay; null for all. */
  limit: number | null;
  /** Classify and count, write and mark nothing. */
  dryRun: boolean;
  /** Rows read per warehouse query. Default 500. */
  pageSize?: number;
  now?: () => Micros;
  onProgress?: (messages: number) => void;
}

export interface RejectedReplaySummary {
  dataset: string;
  dryRun: boolean;
  /** Messages replayed (a message rejected on two deliveries counts once). */
  messages: number;
  /** By outcome: stored, duplicate (stored already), rejected (still failing); in a dry run, would-be. */
  outcomes: Record<ReplayOutcome, number>;
  /** Messages still rejected, by their reason now. */
  stillRejected: Record<string, number>;
  /** Left as they are: `oversize` rows keep a truncated payload that can never pass. */
  skipped: number;
}

/**
 * Codes whose kept payload is not the message, so a replay cannot pass them: `oversize` keeps a
 * truncated payload, and `warehouse_rejected` the fields the warehouse refused (fix the warehouse side,
 * then the producer's message, not this row).
 */
const NOT_REPLAYABLE: ReadonlySet<RejectCode> = new Set(['oversize', 'warehouse_rejected']);

export async function replayRejected(o: RejectedReplayOptions): Promise<RejectedReplaySummary> {
  const schema = o.schemas.get(o.dataset);
  if (!schema) throw new DuctoError('unknown_dataset', `no dataset "${o.dataset.slice(0, 64)}"`);
  const now = o.now ?? (() => Date.now() * 1000);
  const pageSize = o.pageSize ?? 500;
  const decoders = new Map<string, ReturnType<typeof createRecordDecoder>>();
  const decoderOf = (name: string | null) => {
    const s = name === null ? undefined : o.schemas.get(name);
    if (!s) return undefined;
    let d = decoders.get(s.name);
    if (!d) {
      d = createRecordDecoder(s, { maxBytes: o.maxMessageBytes });
      decoders.set(s.name, d);
    }
    return d;
  };
  const summary: RejectedReplaySummary = {
    dataset: o.dataset,
    dryRun: o.dryRun,
    messages: 0,
    outcomes: { stored: 0, duplicate: 0, rejected: 0 },
    stillRejected: {},
    skipped: 0,
  };
  // Every message handled in this run and its mark: a copy of it (a second delivery, rejected again)
  // on a later page is marked with it rather than replayed twice.
  const done = new Map<string, ReplayMark | null>();
  let after: { receivedAt: Micros; messageId: string } | null = null;

  for (;;) {
    const page = await o.warehouse.replayable(schema, {
      codes: o.codes,
      from: o.from,
      to: o.to,
      after,
      limit: pageSize,
    });
    if (page.length === 0) break;
    const last = page[page.length - 1]!;
    after = { receivedAt: last.receivedAt, messageId: last.messageId };

    const at = now();
    const plans: Array<Plan & { row: RejectedRow }> = [];
    let full = false;
    for (const row of page) {
      if (done.has(row.messageId)) continue;
      if (NOT_REPLAYABLE.has(row.code)) {
        done.set(row.messageId, null);
        summary.skipped++;
        continue;
      }
      if (o.limit !== null && summary.messages + plans.length >= o.limit) {
        full = true;
        break;
      }
      done.set(row.messageId, null);
      // A message kept as unknown_dataset may name a dataset that exists now.
      const named = row.code === 'unknown_dataset' ? (row.attributes.dataset ?? null) : o.dataset;
      const data = row.payload ?? (row.code === 'bad_base64' ? undefined : new Uint8Array());
      // The id ingest read from the attribute is kept on the row too.
      const attributes =
        row.eventId !== null && row.attributes.event_id === undefined
          ? { ...row.attributes, event_id: row.eventId }
          : row.attributes;
      const c = classify({ data, attributes, messageId: row.messageId }, decoderOf(named), named);
      plans.push(
        c.ok
          ? {
              row,
              target: named!,
              event: { eventId: c.eventId, fields: c.fields, publishTime: row.publishTime, ingestedAt: at },
              code: row.code,
              detail: row.detail,
            }
          : { row, target: o.dataset, event: null, code: c.code, detail: c.detail },
      );
    }

    const outcomes = o.dryRun ? plans.map(planned) : await write(o.warehouse, plans);
    const marks: ReplayMark[] = plans.map((p, i) => {
      const r = outcomes[i]!;
      summary.outcomes[r.outcome]++;
      if (r.outcome === 'rejected') summary.stillRejected[r.code] = (summary.stillRejected[r.code] ?? 0) + 1;
      return { messageId: p.row.messageId, receivedAt: p.row.receivedAt, at, ...r };
    });
    for (const m of marks) done.set(m.messageId, m);
    if (!o.dryRun) {
      // Every row of the page whose message has a mark: the ones replayed now, and copies of earlier ones.
      const all = page.flatMap((r) => {
        const m = done.get(r.messageId);
        return m ? [{ ...m, receivedAt: r.receivedAt }] : [];
      });
      await o.warehouse.markReplayed(schema, all);
    }
    summary.messages += plans.length;
    o.onProgress?.(summary.messages);
    if (full || page.length < pageSize) break;
  }
  return summary;
}

interface Plan {
  target: string;
  event: EventRow | null;
  /** The reason now: the row's own when the message passes, the new one when it fails again. */
  code: RejectCode;
  detail: string;
}

type Outcome = Pick<ReplayMark, 'outcome' | 'code' | 'detail'>;

/** What a plan comes to before anything is written (all a dry run knows). */
const planned = (p: Plan): Outcome => ({
  outcome: p.event ? 'stored' : 'rejected',
  code: p.code,
  detail: p.detail,
});

/** Writes the events that now pass, per target dataset; one outcome per plan. */
async function write(warehouse: Warehouse, plans: Plan[]): Promise<Outcome[]> {
  const out = plans.map(planned);
  const targets = new Set(plans.filter((p) => p.event).map((p) => p.target));
  for (const dataset of targets) {
    const index = plans.flatMap((p, i) => (p.event && p.target === dataset ? [i] : []));
    const result = await warehouse.write({ dataset, rows: index.map((i) => plans[i]!.event!), rejected: [] });
    const refused = new Map(result.refused.map((r) => [r.eventId, r]));
    // Two rejected messages carrying one event id: the first stores it, the others are duplicates.
    const seen = new Set<string>();
    for (const i of index) {
      const id = plans[i]!.event!.eventId;
      const r = refused.get(id);
      const stored = !seen.has(id) && (result.inserted === null || result.inserted.has(id));
      out[i] = r
        ? { outcome: 'rejected', code: r.code, detail: r.detail }
        : { ...out[i]!, outcome: stored ? 'stored' : 'duplicate' };
      seen.add(id);
    }
  }
  return out;
}
