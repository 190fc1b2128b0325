import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCanary } from '../src/canary.ts';
import type { StackOptions } from '../src/cli/serve.ts';
import { DuctoError } from '../src/core/errors.ts';
import { findEmulatorLauncher } from '../src/pubsub/emulator.ts';
import { freePort } from '../support/proc.ts';
import { ROOT } from '../support/root.ts';
import { stackFactory } from './helpers/stacks.ts';

// The challenge's Part 3.1: the API exposes what was published, exactly once and unchanged. The
// check itself (src/canary.ts) is what the deploy pipeline runs against a deployed gateway.
const factory = stackFactory('it');
const stacks = factory.stacks;
afterAll(() => factory.stopAll());

const stack = (
  mode: 'direct' | 'emulator',
  env: Record<string, string> = {},
  name: string = mode,
  options: StackOptions = {},
) => factory.start(name, { DUCTO_PUBSUB: mode, ...env }, options);

describe('integration: publish → ingest → warehouse → API (direct push)', () => {
  it('returns exactly the published canary events with identical content', async () => {
    const s = await stack('direct');
    const report = await runCanary({
      apiUrl: s.apiUrl,
      via: { endpoint: `${s.ingestUrl}/` },
      count: 6,
      deadlineMs: 20_000,
    });
    expect(report).toMatchObject({ ok: true, published: 6, found: 6, missing: [], mismatched: [] });
  });

  it('fails when the API does not return the canary events in time', async () => {
    const s = stacks[0]!;
    // Publishing to a dataset the API serves under another name: nothing comes back.
    const report = await runCanary({
      apiUrl: s.apiUrl,
      via: { endpoint: `${s.ingestUrl}/?dataset=nope` },
      count: 2,
      deadlineMs: 1_500,
    });
    expect(report.ok).toBe(false);
    expect(report.missing).toHaveLength(2);
  });
});

const launcher = findEmulatorLauncher();
if (!launcher)
  console.warn(
    'SKIP integration through the Pub/Sub emulator: gcloud and its pubsub-emulator component are not installed',
  );

describe.skipIf(!launcher)('integration: publish → Pub/Sub emulator → push → ingest → API', () => {
  it('returns exactly the published canary events with identical content', async () => {
    const port = await freePort();
    const s = await stack('emulator', { PUBSUB_EMULATOR_HOST: `127.0.0.1:${port}` });
    expect(s.mode).toBe('emulator');
    const report = await runCanary({
      apiUrl: s.apiUrl,
      via: { topic: `projects/${s.config.project}/topics/flights`, emulatorHost: s.emulatorHost! },
      count: 6,
      deadlineMs: 30_000,
    });
    expect(report).toMatchObject({ ok: true, published: 6, found: 6 });
  }, 120_000);
});

describe.skipIf(!launcher)('redelivery through the Pub/Sub emulator', () => {
  it('a transiently failing warehouse gets the messages redelivered and nothing is lost or doubled', async () => {
    let failures = 3;
    // The writer's own retries off: the failures must reach Pub/Sub, which redelivers.
    const s = await stack(
      'emulator',
      { PUBSUB_EMULATOR_HOST: `127.0.0.1:${await freePort()}`, DUCTO_WRITE_RETRY_ATTEMPTS: '1' },
      'flaky',
      {
        minBackoffSeconds: 1,
        wrapWarehouse: (w) => ({
          ...w,
          kind: w.kind,
          write: async (batch) => {
            if (failures > 0 && batch.rows.length > 0) {
              failures--;
              throw new DuctoError('warehouse_unavailable', 'injected failure');
            }
            return w.write(batch);
          },
        }),
      },
    );
    const report = await runCanary({
      apiUrl: s.apiUrl,
      via: { topic: `projects/${s.config.project}/topics/flights`, emulatorHost: s.emulatorHost! },
      count: 10,
      deadlineMs: 45_000,
    });
    expect(failures).toBe(0);
    expect(report).toMatchObject({ ok: true, published: 10, found: 10 });
    const retried = (await s.app.metrics.ingestMessages.get()).values.filter(
      (v) => v.labels.outcome === 'retried',
    );
    expect(retried.reduce((a, v) => a + v.value, 0)).toBeGreaterThan(0);
  }, 120_000);
});

describe.skipIf(!launcher)(
  'npm run test:deployed (the post-deploy gate) against the local stack in emulator mode',
  () => {
    const run = async (env: Record<string, string>, args: string[] = []) => {
      const { execFile } = await import('node:child_process');
      return new Promise<{ code: number; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [join(ROOT, 'bin/ducto.mjs'), 'canary', '--count', '3', ...args],
          { env: { ...process.env, ...env }, timeout: 90_000 },
          (err, _out, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
        );
      });
    };

    it('passes when the API returns the canary events, and fails clearly when it does not', async () => {
      const s =
        stacks.find((x) => x.mode === 'emulator') ??
        (await stack('emulator', { PUBSUB_EMULATOR_HOST: `127.0.0.1:${await freePort()}` }));
      const base = {
        DUCTO_API_URL: s.apiUrl,
        PUBSUB_EMULATOR_HOST: s.emulatorHost!,
        DUCTO_TOPIC: `projects/${s.config.project}/topics/flights`,
      };
      const pass = await run(base);
      expect(pass.stderr).toMatch(/PASS: 3 events visible/);
      expect(pass.code).toBe(0);
      // The API of another, empty stack never shows them.
      const other = await stack('direct', {}, 'empty');
      const fail = await run({ ...base, DUCTO_API_URL: other.apiUrl }, ['--deadline', '3']);
      expect(fail.code).toBe(1);
      expect(fail.stderr).toMatch(/FAIL: 3 of 3 canary events missing/);
    }, 180_000);
  },
);
