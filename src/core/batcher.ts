import { DuctoError } from './errors.ts';
import type { EventRow, RejectedRow, WriteBatch, WriteResult } from './warehouse.ts';

export type WriteOutcome = 'stored' | 'duplicate' | 'rejected';

export interface BatcherOptions {
  /** Rows per warehouse write, at most. */
  maxRows: number;
  /** How long the first row of a batch waits for others before the batch is written. */
  maxWaitMs: number;
  /** Rows queued or being written, at most; past it `submit` refuses with `overloaded` (429). */
  maxPending: number;
  /** Warehouse writes in flight at once (DuckDB has one writer; BigQuery takes several). */
  concurrency: number;
}

export interface BatchReport {
  dataset: string;
  rows: number;
  rejected: number;
  stored: number;
  duplicates: number;
  refused: number;
  durationMs: number;
  error?: unknown;
}

type Item =
  | { kind: 'row'; dataset: string; row: EventRow; done: Settle }
  | { kind: 'rejected'; dataset: string; row: RejectedRow; done: Settle };
type Settle = { resolve(o: WriteOutcome): void; reject(e: unknown): void };

/**
 * Collects rows from concurrent deliveries into warehouse writes of bounded size and age. A
 * submitter's promise resolves only after the write holding its row has returned, which is what
 * lets the ingest edge acknowledge a message only once it is durably stored.
 */
export class MicroBatcher {
  private queue: Item[] = [];
  private pending = 0;
  private inFlight = 0;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private idle: Array<() => void> = [];

  constructor(
    private readonly write: (batch: WriteBatch) => Promise<WriteResult>,
    private readonly options: BatcherOptions,
    private readonly onBatch: (report: BatchReport) => void = () => {},
  ) {}

  /** Rows accepted but not yet written (queued or in flight). */
  get depth(): number {
    return this.pending;
  }

  submitRow(dataset: string, row: EventRow): Promise<WriteOutcome> {
    return this.enqueue((done) => ({ kind: 'row', dataset, row, done }));
  }

  submitRejected(dataset: string, row: RejectedRow): Promise<WriteOutcome> {
    return this.enqueue((done) => ({ kind: 'rejected', dataset, row, done }));
  }

  /** Writes what is queued, refuses new rows, and resolves when nothing is in flight. */
  async close(): Promise<void> {
    this.closed = true;
    this.flushSoon(true);
    if (this.pending > 0) await new Promise<void>((r) => this.idle.push(r));
  }

  private enqueue(make: (done: Settle) => Item): Promise<WriteOutcome> {
    if (this.closed)
      return Promise.reject(new DuctoError('shutting_down', 'the writer is closing', { retryAfter: 1 }));
    if (this.pending >= this.options.maxPending) {
      return Promise.reject(
        new DuctoError('overloaded', `${this.pending} rows are waiting for the warehouse`, { retryAfter: 1 }),
      );
    }
    this.pending++;
    return new Promise<WriteOutcome>((resolve, reject) => {
      this.queue.push(make({ resolve, reject }));
      this.flushSoon(this.queue.length >= this.options.maxRows);
    });
  }

  private flushSoon(now: boolean): void {
    if (now) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.drain();
    } else if (!this.timer && this.queue.length > 0) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.drain();
      }, this.options.maxWaitMs);
    }
  }

  private drain(): void {
    while (this.queue.length > 0 && this.inFlight < this.options.concurrency) {
      const items = this.queue.splice(0, this.options.maxRows);
      this.inFlight++;
      void this.writeItems(items).finally(() => {
        this.inFlight--;
        // Rows that arrived while the write was in flight form the next batch at once: under load
        // batches fill up by themselves, and the timer only matters when traffic is light.
        if (this.queue.length >= this.options.maxRows || this.closed) this.drain();
        else this.flushSoon(false);
        if (this.pending === 0) for (const r of this.idle.splice(0)) r();
      });
    }
  }

  private async writeItems(items: Item[]): Promise<void> {
    const byDataset = new Map<string, Item[]>();
    for (const item of items) {
      const list = byDataset.get(item.dataset);
      if (list) list.push(item);
      else byDataset.set(item.dataset, [item]);
    }
    for (const [dataset, group] of byDataset) await this.writeGroup(dataset, group);
  }

  private async writeGroup(dataset: string, items: Item[]): Promise<void> {
    const started = performance.now();
    const rows: EventRow[] = [];
    const rejected: RejectedRow[] = [];
    for (const i of items) {
      if (i.kind === 'row') rows.push(i.row);
      else rejected.push(i.row);
    }
    const report: BatchReport = {
      dataset,
      rows: rows.length,
      rejected: rejected.length,
      stored: 0,
      duplicates: 0,
      refused: 0,
      durationMs: 0,
    };
    try {
      const result = await this.write({ dataset, rows, rejected });
      const refused = new Map(result.refused.map((r) => [r.eventId, r]));
      if (refused.size > 0) {
        // Rows the warehouse refused one by one become rejected rows; the rest of the batch stands.
        await this.write({
          dataset,
          rows: [],
          rejected: items.flatMap((i) => {
            const r = i.kind === 'row' ? refused.get(i.row.eventId) : undefined;
            if (!r || i.kind !== 'row') return [];
            return [
              {
                messageId: i.row.eventId,
                eventId: i.row.eventId,
                code: r.code,
                detail: r.detail,
                payload: Buffer.from(JSON.stringify(i.row.fields)),
                attributes: {},
                publishTime: i.row.publishTime,
                receivedAt: i.row.ingestedAt,
              },
            ];
          }),
        });
      }
      const seen = new Set<string>();
      this.pending -= items.length;
      for (const i of items) {
        if (i.kind === 'rejected') {
          i.done.resolve('rejected');
        } else if (refused.has(i.row.eventId)) {
          report.refused++;
          i.done.resolve('rejected');
        } else {
          const id = i.row.eventId;
          const first = !seen.has(id);
          seen.add(id);
          const fresh = first && (result.inserted === null || result.inserted.has(id));
          if (fresh) report.stored++;
          else report.duplicates++;
          i.done.resolve(fresh ? 'stored' : 'duplicate');
        }
      }
    } catch (cause) {
      const error =
        cause instanceof DuctoError
          ? cause
          : new DuctoError('warehouse_unavailable', 'the warehouse write failed', { cause, retryAfter: 1 });
      report.error = cause;
      this.pending -= items.length;
      for (const i of items) i.done.reject(error);
    } finally {
      report.durationMs = performance.now() - started;
      this.onBatch(report);
    }
  }
}
