/** The workload's fixed settings. */
export const DATASET = 'flights';
/** Attempts per message, as a push subscription with a dead-letter topic after 5 deliveries. */
export const MAX_ATTEMPTS = 5;
export const REQUEST_TIMEOUT_MS = 30_000;
/**
 * A phase keeps up when the publisher sent at least this share of the messages its schedule called
 * for: with at most `inFlight` requests outstanding (a push subscription's flow control), a server
 * that acknowledges slower than the schedule leaves a growing backlog of messages never sent.
 */
export const KEEP_UP = 0.97;
/** How long the in-flight messages of a phase may take to settle once it has ended. */
export const DRAIN_MS = 30_000;
/** Published ids that `get` picks from (the most recent ones). */
export const RECENT_IDS = 10_000;
export const PAGE_LIMIT = 100;
export const MAX_PAGES_PER_WALK = 10;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
