import type { DatasetSchema } from './dataset-schema.ts';
import type { RejectCode } from './errors.ts';
import type { Fields, Value } from './record.ts';
import type { Micros } from './time.ts';

/** A valid event ready to store: its schema fields plus the ingest metadata columns. */
export interface EventRow {
  eventId: string;
  /** Schema fields; timestamp fields hold epoch microseconds. */
  fields: Fields;
  /** Publish time from Pub/Sub (epoch µs), when known. */
  publishTime: Micros | null;
  ingestedAt: Micros;
}

/** A message that can never be a valid event, kept with its reason and raw payload. */
export interface RejectedRow {
  messageId: string;
  eventId: string | null;
  code: RejectCode;
  detail: string;
  /** The raw message data, as received (may be invalid UTF-8). */
  payload: Uint8Array | null;
  attributes: Record<string, string>;
  publishTime: Micros | null;
  receivedAt: Micros;
  /** When a replay last tried this message (epoch µs); absent or null if none has. */
  replayedAt?: Micros | null;
  replayOutcome?: ReplayOutcome | null;
}

/** What a replay of a rejected message did: stored it, found it stored already, or rejected it again. */
export type ReplayOutcome = 'stored' | 'duplicate' | 'rejected';

/** Which rejected rows a replay reads: oldest first, from an optional position, by code and time. */
export interface RejectedQuery {
  /** Only rows with one of these codes; null for every code. */
  codes: RejectCode[] | null;
  /** Bounds on received_at (epoch µs): `from` inclusive, `to` exclusive; null when unbounded. */
  from: Micros | null;
  to: Micros | null;
  /** Resume strictly after this row, in (received_at, message_id) order. */
  after: { receivedAt: Micros; messageId: string } | null;
  limit: number;
}

/** A replay's outcome for every rejected row of one message. */
export interface ReplayMark {
  messageId: string;
  /** The row's received_at: it names the partition holding the row. */
  receivedAt: Micros;
  outcome: ReplayOutcome;
  at: Micros;
  /** The reason now: the original one when the message was stored, the new one when rejected again. */
  code: RejectCode;
  detail: string;
}

export interface WriteBatch {
  dataset: string;
  rows: EventRow[];
  rejected: RejectedRow[];
}

export interface WriteResult {
  /**
   * Event ids written by this call. An id in the batch but not here was already stored (a
   * duplicate). `null` when the warehouse cannot tell (every row then counts as stored).
   */
  inserted: ReadonlySet<string> | null;
  /** Rows the warehouse refused one by one (the rest of the batch was written). */
  refused: Array<{ eventId: string; code: RejectCode; detail: string }>;
  /** Attempts a store that retries on its own (`retriesWrites`) repeated after transient failures. */
  retries?: number;
}

export type FilterOp = 'in' | 'gt' | 'gte' | 'lt' | 'lte';

/** One condition on a field. `in` takes one or more values; the others exactly one. */
export interface Filter {
  field: string;
  op: FilterOp;
  values: Value[];
}

export interface Keyset {
  time: Micros;
  eventId: string;
}

export interface ListQuery {
  filters: Filter[];
  order: 'asc' | 'desc';
  /** Rows to return; `null` for a stream of the whole result. */
  limit: number | null;
  /** Resume strictly after this (time, event_id) position, in the query's order. */
  after: Keyset | null;
  /** Schema fields to return (event_id and the time field are always returned); `null` for all. */
  fields: string[] | null;
}

export interface StatsQuery {
  filters: Filter[];
  groupBy: string[];
  bucket: 'hour' | 'day' | null;
}

/** A stored event as read back: schema fields (timestamps in epoch µs) and `event_id`. */
export type StoredEvent = Record<string, Value> & { event_id: string };

/** One stats group: the group columns (`bucket` as epoch µs), `count`, and `<measure>_{min,max,avg,sum}`. */
export type StatsRow = Record<string, Value>;

export interface Freshness {
  /** Newest event time stored (epoch µs), null when empty. */
  newestEventTime: Micros | null;
  /** When the newest row was written (epoch µs), null when empty. */
  newestIngestedAt: Micros | null;
}

/**
 * The warehouse port. DuckDB (local) and BigQuery (cloud) implement it and both run the one contract
 * suite in test/contract/warehouse-contract.ts.
 */
export interface Warehouse {
  readonly kind: string;
  /**
   * True when `write` retries transient failures itself, under the writers' retry policy
   * (core/retry.ts); otherwise the batcher retries the whole write.
   */
  readonly retriesWrites?: boolean;
  /** Creates the tables of these datasets when missing (idempotent). */
  ensure(schemas: readonly DatasetSchema[]): Promise<void>;
  /**
   * Writes a batch durably and idempotently on event id: when this resolves, every row is either
   * stored or was already stored, and every rejected row is stored.
   */
  write(batch: WriteBatch): Promise<WriteResult>;
  list(schema: DatasetSchema, query: ListQuery): Promise<StoredEvent[]>;
  /** The whole result of a query in chunks, fetched as the consumer pulls them. */
  stream(schema: DatasetSchema, query: ListQuery): AsyncIterable<StoredEvent[]>;
  get(schema: DatasetSchema, eventId: string): Promise<StoredEvent | null>;
  stats(schema: DatasetSchema, query: StatsQuery): Promise<StatsRow[]>;
  freshness(schema: DatasetSchema): Promise<Freshness>;
  /** Counts stored events; for tests, seeding and operations (not on a request path). */
  count(schema: DatasetSchema): Promise<number>;
  /** Rejected rows, newest first; for tests and operations. */
  rejected(schema: DatasetSchema, limit: number): Promise<RejectedRow[]>;
  /**
   * Rejected rows a replay may still move: never replayed, or replayed and rejected again. A message
   * rejected on two deliveries has two rows; a replay handles it once.
   */
  replayable(schema: DatasetSchema, query: RejectedQuery): Promise<RejectedRow[]>;
  /** Records replay outcomes on the rejected rows (every copy of each message). */
  markReplayed(schema: DatasetSchema, marks: ReplayMark[]): Promise<void>;
  /** Resolves when the warehouse answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
