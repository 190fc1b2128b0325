import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_RETRY_POLICY, retrying } from '../src/core/retry.ts';

describe('the writers’ retry policy', () => {
  it('waits a uniform share of an exponential cap (full jitter), capped at maxDelayMs', () => {
    const policy = { attempts: 10, baseDelayMs: 10, maxDelayMs: 100, budgetMs: 1_000 };
    expect([1, 2, 3, 4, 5, 6].map((f) => backoffDelay(policy, f, () => 1))).toEqual([
      10, 20, 40, 80, 100, 100,
    ]);
    expect(backoffDelay(policy, 3, () => 0)).toBe(0);
    expect(backoffDelay(policy, 3, () => 0.5)).toBe(20);
  });

  it('stays under the push subscription’s 60 s ack deadline by default', () => {
    expect(DEFAULT_RETRY_POLICY.budgetMs).toBeLessThan(60_000);
  });

  it('retries transient failures only, and says how many tries it took', async () => {
    let n = 0;
    const sleeps: number[] = [];
    const r = await retrying(
      async () => {
        if (++n < 3) throw new Error('busy');
        return 'ok';
      },
      {
        policy: DEFAULT_RETRY_POLICY,
        transient: () => true,
        sleep: async (ms) => void sleeps.push(ms),
        random: () => 1,
      },
    );
    expect(r).toEqual({ value: 'ok', tries: 3 });
    expect(sleeps).toEqual([10, 20]);
    await expect(
      retrying(
        async () => {
          throw new Error('refused');
        },
        { policy: DEFAULT_RETRY_POLICY, transient: () => false, sleep: async () => {} },
      ),
    ).rejects.toThrow('refused');
  });
});
