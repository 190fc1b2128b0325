import type { Message, PubSub } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../src/cli/serve.ts';
import { readConfig } from '../src/config.ts';
import { decodeDelivery } from '../src/core/delivery.ts';
import { DuctoError } from '../src/core/errors.ts';
import { findEmulatorLauncher } from '../src/pubsub/emulator.ts';
import { deliveryOf } from '../src/pubsub/pull-bridge.ts';
import { pullSubscriptionName, subscriptionName, topicName } from '../src/pubsub/topology.ts';
import { apiEventIds, pullStack } from './helpers/emulator-stack.ts';
import { stackFactory } from './helpers/stacks.ts';

// The local pull delivery mode (src/pubsub/pull-bridge.ts) through the real emulator: the same
// ingest path as push, acknowledged only after the durable write or the rejected row.

describe('DUCTO_DELIVERY', () => {
  it('is push by default, takes pull, and refuses pull without the emulator', () => {
    expect(readConfig({}).local.delivery).toBe('push');
    expect(readConfig({ DUCTO_DELIVERY: 'pull' }).local.delivery).toBe('pull');
    expect(readConfig({ DUCTO_DELIVERY: 'push' }, { delivery: 'pull' }).local.delivery).toBe('pull');
    expect(() => readConfig({ DUCTO_DELIVERY: 'poll' })).toThrow(/push or pull/);
    expect(() => readConfig({ DUCTO_DELIVERY: 'pull', DUCTO_PUBSUB: 'direct' })).toThrow(DuctoError);
  });
});

describe('deliveryOf', () => {
  it('builds the Delivery the push endpoint decodes from the same message, nanoseconds of publish time included', () => {
    const data = Buffer.from('{"origin":"LAX","note":"é"}');
    const message = {
      data,
      attributes: { event_id: 'e-1', dataset: 'flights' },
      id: '42',
      // The client's PreciseDate: nanoseconds since the epoch.
      publishTime: {
        getFullTime: () => BigInt(Date.parse('2026-11-28T10:00:00Z')) * 1_000_000n + 123_456_789n,
      },
    } as unknown as Message;
    const sub = 'projects/ducto-local/subscriptions/flights-pull';
    const pushed = decodeDelivery({
      message: {
        data: data.toString('base64'),
        attributes: message.attributes,
        messageId: '42',
        publishTime: '2026-11-28T10:00:00.123456789Z',
      },
      subscription: sub,
    });
    const pulled = deliveryOf(message, sub);
    expect(pulled).toEqual(pushed);
    expect(pulled.message.publishTime).toBe(Date.parse('2026-11-28T10:00:00.123Z') * 1000 + 456);
  });
});

const launcher = findEmulatorLauncher();
if (!launcher) {
  console.log(
    'SKIP pull-bridge.test.ts (through the emulator): the gcloud Pub/Sub emulator is not installed (no gcloud on PATH, or no platform/pubsub-emulator in its SDK)',
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!launcher)('pull delivery through the Pub/Sub emulator', () => {
  const factory = stackFactory('pull');
  let stack: Stack;
  let pubsub: PubSub;
  // Writes holding a row whose event id starts with "flaky-" fail while this is above zero.
  let failures = 0;
  const flights = () => stack.app.schemas.get('flights')!;

  beforeAll(async () => {
    // Writes holding a "flaky-" row fail while `failures` is above zero, one failure each.
    ({ stack, pubsub } = await pullStack(
      factory,
      'pull',
      (batch) => {
        if (failures > 0 && batch.rows.some((r) => r.eventId.startsWith('flaky-'))) {
          failures--;
          return true;
        }
        return false;
      },
      { DUCTO_PULL_MAX_MESSAGES: '200' },
    ));
  }, 60_000);

  afterAll(async () => {
    await pubsub?.close();
    await factory.stopAll();
  }, 30_000);

  const apiIds = () => apiEventIds(stack.apiUrl);

  const waitForIds = async (ids: string[], timeoutMs: number): Promise<string[]> => {
    const wanted = new Set(ids);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = (await apiIds()).filter((id) => wanted.has(id));
      if (new Set(got).size === wanted.size || Date.now() > deadline) return got;
      await sleep(100);
    }
  };

  const counter = async (outcome: string, reason?: string) =>
    (await stack.app.metrics.ingestMessages.get()).values
      .filter((v) => v.labels.outcome === outcome && (reason === undefined || v.labels.reason === reason))
      .reduce((a, v) => a + v.value, 0);

  const publishFlights = (prefix: string, n: number) => {
    const topic = pubsub.topic(topicName('flights'));
    const ids = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
    return Promise.all(
      ids.map((id, i) =>
        topic.publishMessage({
          data: Buffer.from(
            JSON.stringify({
              date: new Date(Date.UTC(2001, 0, 1, 0, i)).toISOString(),
              delay: i % 60,
              distance: 100 + i,
              origin: 'LAX',
              destination: 'SFO',
            }),
          ),
          attributes: { event_id: id, dataset: 'flights' },
        }),
      ),
    ).then(() => ids);
  };

  it('runs pull delivery on a pull subscription with the push subscription’s retry and dead-letter policy', async () => {
    expect(stack.mode).toBe('emulator');
    expect(stack.delivery).toBe('pull');
    const [sub] = await pubsub.subscription(pullSubscriptionName('flights')).getMetadata();
    expect(sub).toMatchObject({
      topic: `projects/${stack.config.project}/topics/flights`,
      pushConfig: { pushEndpoint: '' },
      ackDeadlineSeconds: 60,
      retryPolicy: { minimumBackoff: { seconds: '1' }, maximumBackoff: { seconds: '600' } },
      deadLetterPolicy: {
        deadLetterTopic: `projects/${stack.config.project}/topics/flights-dead-letter`,
        maxDeliveryAttempts: 5,
      },
    });
    // No push subscription besides it: each message would be ingested twice.
    const [exists] = await pubsub.subscription(subscriptionName('flights')).exists();
    expect(exists).toBe(false);
  });

  it('stores every published event exactly once', async () => {
    const storedBefore = await counter('stored');
    const ids = await publishFlights('bulk', 600);
    const got = await waitForIds(ids, 20_000);
    expect(got.length).toBe(600);
    expect(new Set(got).size).toBe(600);
    expect((await counter('stored')) - storedBefore).toBe(600);
    expect(stack.pullBridge!.counts()).toMatchObject({ nacked: 0 });
  }, 30_000);

  it('acknowledges a malformed message once it is stored in <dataset>_rejected, and never retries it', async () => {
    const before = stack.pullBridge!.counts();
    await pubsub.topic(topicName('flights')).publishMessage({
      data: Buffer.from('{"date": not json'),
      attributes: { event_id: 'malformed-1', dataset: 'flights' },
    });
    const deadline = Date.now() + 10_000;
    let row: Awaited<ReturnType<Stack['warehouse']['rejected']>>[number] | undefined;
    while (!row && Date.now() < deadline) {
      row = (await stack.warehouse.rejected(flights(), 100)).find((r) => r.eventId === 'malformed-1');
      if (!row) await sleep(100);
    }
    expect(row).toMatchObject({ code: 'not_json' });
    expect(Buffer.from(row!.payload!).toString('utf8')).toBe('{"date": not json');
    // A nack would bring it back within the 1 s backoff: wait past it, it must have come once.
    await sleep(2_500);
    const after = stack.pullBridge!.counts();
    expect(after.received - before.received).toBe(1);
    expect(after.acked - before.acked).toBe(1);
    expect(after.nacked - before.nacked).toBe(0);
    expect(await counter('rejected', 'not_json')).toBe(1);
  }, 20_000);

  it('nacks on a transient write failure, gets the messages redelivered, and stores them once', async () => {
    const before = stack.pullBridge!.counts();
    const retriedBefore = await counter('retried');
    failures = 2;
    const ids = await publishFlights('flaky', 5);
    const got = await waitForIds(ids, 30_000);
    expect(failures).toBe(0);
    expect(got.sort()).toEqual([...ids].sort());
    const after = stack.pullBridge!.counts();
    expect(after.nacked - before.nacked).toBeGreaterThan(0);
    expect(after.received - before.received).toBeGreaterThan(5);
    expect((await counter('retried')) - retriedBefore).toBe(after.nacked - before.nacked);
  }, 40_000);
});
