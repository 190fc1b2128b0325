/** The freshness run's fixed settings. */
/** Start-to-start interval of the API polls. */
export const POLL_MS = 50;
/** The poll window never reaches further back than this (a lost event must not grow it forever). */
export const WINDOW_CAP_MS = 30_000;
/** How long after the last publish the poller keeps looking for events not yet seen. */
export const DRAIN_MS = 30_000;
/** Publishes in flight at most; past it the publisher falls behind (visible in the achieved rate). */
export const MAX_IN_FLIGHT = 4_000;
