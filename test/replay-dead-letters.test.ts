/**
 * `ducto replay --dead-letters` and `--seek` through the real Pub/Sub emulator: messages whose writes
 * keep failing past the retry budget reach the dead-letter topic; once the warehouse is back, the
 * command republishes them and each event is stored exactly once. A republish that fails leaves its
 * dead letter where it was; a seek redelivers what was acknowledged and adds no copies.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { PubSub } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../src/cli/serve.ts';
import { findEmulatorLauncher } from '../src/pubsub/emulator.ts';
import { replayDeadLetters } from '../src/pubsub/replay-dead-letters.ts';
import { ROOT } from '../support/root.ts';
import { apiEventIds, pullStack } from './helpers/emulator-stack.ts';
import { stackFactory } from './helpers/stacks.ts';

function ducto(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'bin/ducto.mjs'), ...args],
      { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'warn', ...env }, timeout: 90_000 },
      (err, stdout, stderr) =>
        resolve({
          code: err ? ((err as { code?: number }).code ?? 1) : 0,
          stdout: String(stdout),
          stderr: String(stderr),
        }),
    );
  });
}

describe('ducto replay: bad arguments', () => {
  it('an unknown dataset is a clear error and a non-zero exit', async () => {
    const r = await ducto(['replay', '--dataset', 'nope', '--dead-letters'], {});
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/no dataset "nope"/);
  }, 60_000);

  it('refuses a flag its mode does not take, and a limit that is not a whole number', async () => {
    const seek = await ducto(
      ['replay', '--dataset', 'flights', '--seek', '2026-01-01T00:00:00Z', '--dry-run'],
      {},
    );
    expect(seek.code).not.toBe(0);
    expect(seek.stderr).toMatch(/--dry-run does not apply here/);
    const limit = await ducto(['replay', '--dataset', 'flights', '--rejected', '--limit', '2.5'], {});
    expect(limit.code).not.toBe(0);
    expect(limit.stderr).toMatch(/--limit is a whole number/);
    const future = await ducto(['replay', '--dataset', 'flights', '--seek', '2200-01-01T00:00:00Z'], {});
    expect(future.code).not.toBe(0);
    expect(future.stderr).toMatch(/--seek takes a past time/);
  }, 60_000);

  it('needs exactly one of --dead-letters, --rejected, --seek', async () => {
    const r = await ducto(['replay', '--dataset', 'flights', '--dead-letters', '--rejected'], {});
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/exactly one of --dead-letters, --rejected, --seek/);
  }, 60_000);
});

const launcher = findEmulatorLauncher();
if (!launcher)
  console.log(
    'SKIP replay-dead-letters.test.ts (through the emulator): the gcloud Pub/Sub emulator is not installed (no gcloud on PATH, or no platform/pubsub-emulator in its SDK)',
  );

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!launcher)('ducto replay through the Pub/Sub emulator', () => {
  const factory = stackFactory('replay');
  let stack: Stack;
  let pubsub: PubSub;
  let failing = true;
  const ids = Array.from({ length: 6 }, (_, i) => `dl-${i}`);
  const env = () => ({
    PUBSUB_EMULATOR_HOST: stack.emulatorHost!,
    GOOGLE_CLOUD_PROJECT: stack.config.project,
    DUCTO_DELIVERY: 'pull',
  });

  beforeAll(async () => {
    ({ stack, pubsub } = await pullStack(factory, 'replay', (batch) => failing && batch.rows.length > 0));
  }, 60_000);

  afterAll(async () => {
    await pubsub?.close();
    await factory.stopAll();
  }, 30_000);

  const stored = async () => (await apiEventIds(stack.apiUrl)).filter((id) => id.startsWith('dl-')).sort();

  const deadLetters = async () =>
    (
      await replayDeadLetters({
        pubsub,
        subscription: 'flights-dead-letter-sub',
        topic: 'flights',
        limit: null,
        dryRun: true,
        pullTimeoutMs: 1_000,
      })
    ).read;

  it('stores each dead-lettered event exactly once after --dead-letters, once the warehouse is back', async () => {
    const topic = pubsub.topic('flights');
    for (const id of ids)
      await topic.publishMessage({
        data: Buffer.from(
          JSON.stringify({
            date: '2001-02-03T04:05:00Z',
            delay: 7,
            distance: 300,
            origin: 'LAX',
            destination: 'SFO',
          }),
        ),
        attributes: { event_id: id, dataset: 'flights' },
      });
    // Five failed deliveries each, then the dead-letter topic.
    const deadline = Date.now() + 90_000;
    while ((await deadLetters()) < ids.length) {
      if (Date.now() > deadline) throw new Error('the messages never reached the dead-letter topic');
      await sleep(1_000);
    }
    expect(await stored()).toEqual([]);
    failing = false;

    // A republish that fails (no such topic) leaves the dead letter on its subscription.
    const broken = await replayDeadLetters({
      pubsub,
      subscription: 'flights-dead-letter-sub',
      topic: 'no-such-topic',
      limit: 2,
      dryRun: false,
      pullTimeoutMs: 1_000,
    });
    expect(broken).toMatchObject({ republished: 0 });
    expect(broken.failed).toBeGreaterThan(0);
    expect(await deadLetters()).toBe(ids.length);

    const run = await ducto(['replay', '--dataset', 'flights', '--dead-letters'], env());
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`republished ${ids.length} dead letter`));

    const until = Date.now() + 60_000;
    while ((await stored()).length < ids.length && Date.now() < until) await sleep(500);
    expect(await stored()).toEqual(ids);
    expect(await deadLetters()).toBe(0);
  }, 180_000);

  it('a missing dead-letter subscription is a clear error and a non-zero exit', async () => {
    const run = await ducto(
      ['replay', '--dataset', 'flights', '--dead-letters', '--system', 'nosuch'],
      env(),
    );
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/subscription nosuch-flights-dead-letter-sub does not exist/);
  }, 60_000);

  it('--seek redelivers what was acknowledged since then, and stores nothing twice', async () => {
    const before = await stored();
    expect(before).toEqual(ids);
    const duplicates = async () =>
      (await stack.app.metrics.ingestMessages.get()).values
        .filter((v) => v.labels.outcome === 'duplicate')
        .reduce((a, v) => a + v.value, 0);
    const dupBefore = await duplicates();
    const run = await ducto(
      ['replay', '--dataset', 'flights', '--seek', new Date(Date.now() - 10 * 60_000).toISOString()],
      env(),
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/already acknowledged is delivered again/);
    const until = Date.now() + 60_000;
    while ((await duplicates()) - dupBefore < ids.length && Date.now() < until) await sleep(500);
    expect((await duplicates()) - dupBefore).toBeGreaterThanOrEqual(ids.length);
    expect(await stored()).toEqual(ids);
  }, 120_000);
});
