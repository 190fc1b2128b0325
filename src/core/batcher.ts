import { DuctoError } from './errors.ts';
import { type RetryPolicy, retrying } from './retry.ts';
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
  /**
   * How a write that failed transiently is tried again before its messages go back to Pub/Sub;
   * null when the store retries on its own, under the same policy (BigQuery, per append request).
   */
  retry?: RetryPolicy | null;
}

export interface BatchReport {
  dataset: string;
  rows: number;
  rejected: number;
  stored: number;
  duplicates: number;
  refused: number;
  /** Tries of a write that failed transiently and was tried again. */
  retries: number;
  /** Times a write that failed because of its data was split to find the row at fault. */
  splits: number;
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
  /** When the oldest queued row arrived (performance.now()), or null with the queue empty. */
  private oldestQueuedAt: number | null = null;
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
      if (this.queue.length === 0) this.oldestQueuedAt = performance.now();
      this.queue.push(make({ resolve, reject }));
      this.flushSoon(this.queue.length >= this.options.maxRows);
    });
  }

  /**
   * Writes now, or when the oldest queued row has waited `maxWaitMs`: a row's wait counts from its
   * arrival, not from when the writer became free, so rows queued behind a write go out as soon as
   * it ends (under load the writer never idles on a timer).
   */
  private flushSoon(now: boolean): void {
    const waited = this.oldestQueuedAt === null ? 0 : performance.now() - this.oldestQueuedAt;
    if (now || (this.queue.length > 0 && waited >= this.options.maxWaitMs)) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.drain();
    } else if (!this.timer && this.queue.length > 0) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.drain();
      }, this.options.maxWaitMs - waited);
    }
  }

  private drain(): void {
    while (this.queue.length > 0 && this.inFlight < this.options.concurrency) {
      const items = this.queue.splice(0, this.options.maxRows);
      // Rows left queued (more than a batch) keep the oldest arrival time: counting them older than
      // they are sends them sooner, which is what a full queue wants.
      if (this.queue.length === 0) this.oldestQueuedAt = null;
      this.inFlight++;
      void this.writeItems(items).then((settle) => {
        this.inFlight--;
        // The next write starts before this batch's deliveries are answered: its rows have waited
        // already, and answering a batch's deliveries takes the event loop for a while.
        // Rows that arrived while the write was in flight form it at once when the oldest has
        // waited its maxWaitMs already (under load batches fill up by themselves), else when it has.
        if (this.queue.length >= this.options.maxRows || this.closed) this.drain();
        else this.flushSoon(false);
        settle();
        if (this.pending === 0) for (const r of this.idle.splice(0)) r();
      });
    }
  }

  /** Writes a batch; resolves with what answers its submitters (called once the next write is on its way). */
  private async writeItems(items: Item[]): Promise<() => void> {
    const byDataset = new Map<string, Item[]>();
    for (const item of items) {
      const list = byDataset.get(item.dataset);
      if (list) list.push(item);
      else byDataset.set(item.dataset, [item]);
    }
    const settles: Array<() => void> = [];
    for (const [dataset, group] of byDataset) settles.push(await this.writeGroup(dataset, group));
    return () => {
      for (const settle of settles) settle();
    };
  }

  /** A failure worth another try: the warehouse is busy or down, and the writer is not closing. */
  private transient = (error: unknown): boolean =>
    !this.closed && error instanceof DuctoError && error.code === 'warehouse_unavailable';

  private async writeGroup(dataset: string, items: Item[]): Promise<() => void> {
    const started = performance.now();
    const report: BatchReport = {
      dataset,
      rows: 0,
      rejected: 0,
      stored: 0,
      duplicates: 0,
      refused: 0,
      retries: 0,
      splits: 0,
      durationMs: 0,
    };
    for (const i of items) {
      if (i.kind === 'row') report.rows++;
      else report.rejected++;
    }
    const finish = (answer: () => void) => () => {
      this.pending -= items.length;
      answer();
      report.durationMs = performance.now() - started;
      this.onBatch(report);
    };
    try {
      const outcomes = await this.writeSplitting(dataset, items, report);
      return finish(() => {
        for (const i of items) i.done.resolve(outcomes.get(i)!);
      });
    } catch (cause) {
      const error =
        cause instanceof DuctoError
          ? cause
          : new DuctoError('warehouse_unavailable', 'the warehouse write failed', { cause, retryAfter: 1 });
      report.error = cause;
      return finish(() => {
        for (const i of items) i.done.reject(error);
      });
    }
  }

  /**
   * Writes items, each write under the retry policy. A write that fails because of its data (not
   * transiently) is split in halves, recursively, so the other rows land; a single row the warehouse
   * will not take becomes a rejected row (`warehouse_rejected`), kept with its reason like any other.
   */
  private async writeSplitting(
    dataset: string,
    items: Item[],
    report: BatchReport,
  ): Promise<Map<Item, WriteOutcome>> {
    try {
      return await this.writeOnce(dataset, items, report);
    } catch (error) {
      if (this.transient(error) || this.closed || error instanceof DuctoError) throw error;
      if (items.length > 1) {
        report.splits++;
        const half = Math.ceil(items.length / 2);
        const first = await this.writeSplitting(dataset, items.slice(0, half), report);
        const second = await this.writeSplitting(dataset, items.slice(half), report);
        return new Map([...first, ...second]);
      }
      const only = items[0];
      if (only?.kind !== 'row') throw error;
      report.refused++;
      const detail = error instanceof Error ? error.message : String(error);
      await this.writeRetrying(
        { dataset, rows: [], rejected: [refusedRow(only.row, 'warehouse_rejected', detail)] },
        report,
      );
      return new Map([[only, 'rejected']]);
    }
  }

  /**
   * One warehouse write, tried again under the retry policy while it fails transiently. Each write
   * is retried on its own: a write that succeeded is never sent twice because a later one failed.
   */
  private async writeRetrying(batch: WriteBatch, report: BatchReport): Promise<WriteResult> {
    const { value } = await retrying(() => this.write(batch), {
      policy: this.options.retry ?? NO_RETRY,
      transient: this.transient,
      onRetry: () => {
        report.retries++;
      },
    });
    // A store that retries on its own (BigQuery, per append request) says how often it did.
    report.retries += value.retries ?? 0;
    return value;
  }

  /** One write of the items, and what became of each. */
  private async writeOnce(
    dataset: string,
    items: Item[],
    report: BatchReport,
  ): Promise<Map<Item, WriteOutcome>> {
    const rows: EventRow[] = [];
    const rejected: RejectedRow[] = [];
    for (const i of items) {
      if (i.kind === 'row') rows.push(i.row);
      else rejected.push(i.row);
    }
    const result = await this.writeRetrying({ dataset, rows, rejected }, report);
    const refused = new Map(result.refused.map((r) => [r.eventId, r]));
    if (refused.size > 0) {
      // Rows the warehouse refused one by one become rejected rows; the rest of the batch stands.
      await this.writeRetrying(
        {
          dataset,
          rows: [],
          rejected: items.flatMap((i) => {
            const r = i.kind === 'row' ? refused.get(i.row.eventId) : undefined;
            return r && i.kind === 'row' ? [refusedRow(i.row, r.code, r.detail)] : [];
          }),
        },
        report,
      );
    }
    const outcomes = new Map<Item, WriteOutcome>();
    const seen = new Set<string>();
    for (const i of items) {
      if (i.kind === 'rejected') {
        outcomes.set(i, 'rejected');
      } else if (refused.has(i.row.eventId)) {
        report.refused++;
        outcomes.set(i, 'rejected');
      } else {
        const id = i.row.eventId;
        const first = !seen.has(id);
        seen.add(id);
        const fresh = first && (result.inserted === null || result.inserted.has(id));
        if (fresh) report.stored++;
        else report.duplicates++;
        outcomes.set(i, fresh ? 'stored' : 'duplicate');
      }
    }
    return outcomes;
  }
}

/** One try, no retry: for stores that retry on their own. */
const NO_RETRY: RetryPolicy = { attempts: 1, baseDelayMs: 0, maxDelayMs: 0, budgetMs: 0 };

/** An event the warehouse would not take, as the rejected row that keeps it. */
function refusedRow(row: EventRow, code: RejectedRow['code'], detail: string): RejectedRow {
  return {
    messageId: row.eventId,
    eventId: row.eventId,
    code,
    detail,
    payload: Buffer.from(JSON.stringify(row.fields)),
    attributes: {},
    publishTime: row.publishTime,
    receivedAt: row.ingestedAt,
  };
}
