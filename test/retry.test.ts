import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { blocks, parseFile } from '../scripts/infra-hcl.ts';
import { backoffDelay, DEFAULT_RETRY_POLICY, retrying } from '../src/core/retry.ts';
import { TOPOLOGY_DEFAULTS } from '../src/pubsub/topology.ts';
import { ROOT } from '../support/root.ts';

describe('the writers’ retry policy', () => {
  it('waits a uniform share of an exponential cap (full jitter), capped at maxDelayMs', () => {
    const policy = { attempts: 10, baseDelayMs: 10, maxDelayMs: 100, budgetMs: 1_000 };
    expect([1, 2, 3, 4, 5, 6].map((f) => backoffDelay(policy, f, () => 1))).toEqual([
      10, 20, 40, 80, 100, 100,
    ]);
    expect(backoffDelay(policy, 3, () => 0)).toBe(0);
    expect(backoffDelay(policy, 3, () => 0.5)).toBe(20);
  });

  it('spends its budget inside the ack deadline of every subscription ducto makes', async () => {
    // The emulator topology (src/pubsub/topology.ts) and the cloud's (infra/modules/pubsub-dataset).
    const variables = await parseFile(join(ROOT, 'infra/modules/pubsub-dataset/variables.tf'));
    const cloud = blocks(variables.json, 'variable').find(([name]) => name === 'ack_deadline_seconds')?.[1];
    expect(cloud?.default).toEqual(expect.any(Number));
    // And the Cloud Run request timeout of the services that take the pushes (infra/modules/system).
    const system = readFileSync(join(ROOT, 'infra/modules/system/variables.tf'), 'utf8');
    const timeouts = [...system.matchAll(/timeout_seconds\s*=\s*optional\(number,\s*(\d+)\)/g)].map((m) =>
      Number(m[1]),
    );
    expect(timeouts.length).toBeGreaterThan(0);
    for (const seconds of [TOPOLOGY_DEFAULTS.ackDeadlineSeconds, cloud!.default as number, ...timeouts]) {
      // A retried write is still answered with time to spare for the answer itself.
      expect(DEFAULT_RETRY_POLICY.budgetMs + DEFAULT_RETRY_POLICY.maxDelayMs).toBeLessThan(seconds * 1000);
    }
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
    expect(sleeps).toEqual([2, 4]);
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
