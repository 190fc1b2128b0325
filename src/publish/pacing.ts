/** Pacing and concurrency of `ducto publish`: a steady start rate, and a bound on sends in flight. */
import { setTimeout as sleep } from 'node:timers/promises';

// ---------------------------------------------------------------------------------------------
// Pacing and concurrency

/**
 * Paces starts at `rate` per second by reserving evenly spaced start times (GCRA). Every caller
 * sleeps once until its own slot, so there is no polling, and sleeping late never lets the rate
 * drift: the next slot is computed from the previous slot, not from when the sleeper woke up.
 */
export function createPacer(rate: number): (signal?: AbortSignal) => Promise<void> {
  const interval = 1000 / rate;
  let next = 0;
  return async (signal) => {
    const now = performance.now();
    const slot = Math.max(now, next);
    next = slot + interval;
    // Timers have millisecond resolution; a shorter wait is let through and paid back by later slots.
    if (slot - now >= 1) await sleep(slot - now, undefined, { signal });
  };
}

export function createSemaphore(size: number) {
  let free = size;
  const waiting: Array<() => void> = [];
  let idle: (() => void) | undefined;
  return {
    async acquire(): Promise<void> {
      if (free > 0) {
        free--;
        return;
      }
      await new Promise<void>((resolve) => waiting.push(resolve));
    },
    release(): void {
      const next = waiting.shift();
      if (next) next();
      else if (++free === size) idle?.();
    },
    /** Resolves once every permit is back. */
    async drain(): Promise<void> {
      if (free === size) return;
      await new Promise<void>((resolve) => {
        idle = resolve;
      });
    },
  };
}
