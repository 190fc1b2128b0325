/**
 * The one retry policy of warehouse writes, for every store: exponential backoff with full jitter
 * (writers that failed together do not retry together), a number of attempts, and a time budget
 * kept under the push subscription's 60 s ack deadline. A write still failing when the budget is
 * spent goes back to Pub/Sub, whose redelivery is slower (10–600 s backoff) and, for push, slows the
 * whole subscription after failures: a transient failure absorbed here costs milliseconds instead.
 */
export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Time a write may take, every attempt and wait included. */
  budgetMs: number;
}

/**
 * First waits of a millisecond or two, then doubling to 2 s: a blip (a lock, a dropped connection) is
 * over before a longer wait would end, and while a DuckDB write waits nothing else is written (one
 * writer), so the first waits cost every message queued behind it. An outage gets waits of seconds:
 * the 15 waits add up to at most ~12 s (~6 s on average with full jitter), inside the 30 s budget.
 * Past either bound the messages go back to Pub/Sub. Measured: `npm run bench -- --only faults`.
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 16,
  baseDelayMs: 2,
  maxDelayMs: 2_000,
  budgetMs: 30_000,
};

/** The wait before the next try after `failures` failures: uniform in [0, min(max, base · 2^(failures-1))]. */
export function backoffDelay(
  policy: RetryPolicy,
  failures: number,
  random: () => number = Math.random,
): number {
  return random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (failures - 1));
}

/**
 * The wait before the next try after `failures` failures, or null when there is none: the attempts
 * are spent, or the wait would end past `deadline` (the budget's end, in the `now()` clock).
 */
export function nextDelay(
  policy: RetryPolicy,
  failures: number,
  deadline: number,
  now: () => number = Date.now,
  random: () => number = Math.random,
): number | null {
  if (failures >= policy.attempts) return null;
  const delay = backoffDelay(policy, failures, random);
  return now() + delay >= deadline ? null : delay;
}

export interface RetryOptions {
  policy: RetryPolicy;
  /** Whether a failure is worth another try (the store is busy or down, not refusing the data). */
  transient: (error: unknown) => boolean;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  random?: () => number;
  /** Called before each wait, with the failure and the number of failures so far. */
  onRetry?: (error: unknown, failures: number) => void;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Runs `work` until it succeeds, fails with an error that is not transient, uses up its attempts,
 * or would outlive its budget; the last error is thrown. Resolves with the result and the number of
 * tries it took.
 */
export async function retrying<T>(
  work: () => Promise<T>,
  options: RetryOptions,
): Promise<{ value: T; tries: number }> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const deadline = now() + options.policy.budgetMs;
  for (let failures = 0; ; ) {
    try {
      return { value: await work(), tries: failures + 1 };
    } catch (error) {
      failures++;
      const delay = options.transient(error)
        ? nextDelay(options.policy, failures, deadline, now, options.random)
        : null;
      if (delay === null) throw error;
      options.onRetry?.(error, failures);
      await sleep(delay);
    }
  }
}
