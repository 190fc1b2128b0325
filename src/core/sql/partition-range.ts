import { DuctoError } from '../errors.ts';
import type { Micros } from '../time.ts';

export const DAY: Micros = 86_400_000_000;

/** Every stored event time is a safe integer of µs (the writers check it), so this range holds them all. */
export const ALL_TIME = { from: -Number.MAX_SAFE_INTEGER, to: Number.MAX_SAFE_INTEGER } as const;

/**
 * What a query's time range is for: `query` (list, stream, stats: the client's from/to apply),
 * `lookup` (get by id, count: no time given) or `recent` (freshness: only the newest partitions).
 */
export type RangeScope = 'query' | 'lookup' | 'recent';

/** Bounds on the event time; `from` inclusive, `to` exclusive, null when unbounded. */
export interface TimeBounds {
  from: Micros | null;
  to: Micros | null;
}

export interface TimeRange {
  from: Micros;
  to: Micros;
}

/** Decides the event-time range (hence the partitions) a query scans. */
export interface PartitionPolicy {
  range(scope: RangeScope, bounds: TimeBounds): TimeRange;
}

export interface PartitionPolicyOptions {
  /** Days a query without `from` covers (today included); `null`: every partition. */
  defaultDays: number | null;
  /** Longest from/to range a query may ask for, in days, and how far back a lookup looks; `null`: no limit. */
  maxDays: number | null;
  /** Days freshness looks back (today included); `null`: every partition. */
  recentDays: number | null;
  now: () => Micros;
}

/** Every partition: what a dialect scans when it is given no policy. */
export const ALL_PARTITIONS: PartitionPolicy = partitionPolicy({
  defaultDays: null,
  maxDays: null,
  recentDays: null,
  now: () => 0,
});

export function partitionPolicy(options: PartitionPolicyOptions): PartitionPolicy {
  // A default window ends at the end of tomorrow (UTC): it is whole partitions, the same all day (so the
  // pages of one listing see one window), and keeps events stamped a little ahead of this clock.
  const end = () => Math.floor(options.now() / DAY) * DAY + 2 * DAY;
  /** The `days` days up to today, and tomorrow; every partition when `days` is null. */
  const window = (days: number | null, to = end()): TimeRange =>
    days === null ? { ...ALL_TIME } : { from: to - (days + 1) * DAY, to };
  return {
    range(scope, bounds) {
      if (scope === 'recent') return window(options.recentDays);
      if (scope === 'lookup') return window(options.maxDays);
      if (bounds.from === null) {
        if (bounds.to === null) return window(options.defaultDays);
        return options.defaultDays === null
          ? { from: ALL_TIME.from, to: bounds.to }
          : { from: bounds.to - options.defaultDays * DAY, to: bounds.to };
      }
      // A missing `to` means "until now": measured from now, not from the padded end, so asking for
      // exactly the last `maxDays` days is allowed.
      if (options.maxDays !== null && (bounds.to ?? options.now()) - bounds.from > options.maxDays * DAY) {
        throw new DuctoError(
          'bad_parameter',
          `from/to may span at most ${options.maxDays} days: narrow the range, or page through it`,
          { details: { parameter: 'from' } },
        );
      }
      return { from: bounds.from, to: bounds.to ?? (options.maxDays === null ? ALL_TIME.to : end()) };
    },
  };
}
