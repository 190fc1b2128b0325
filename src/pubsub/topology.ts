import type { PubSub, Subscription } from '@google-cloud/pubsub';
import { DuctoError } from '../core/errors.ts';

/*
 * The Pub/Sub resources of a dataset. These names and settings are a contract: the cloud
 * Terraform creates the same resources with the same names and values, the local stack creates
 * them in the emulator, and producers publish to `topicName(dataset)`.
 */
export const topicName = (dataset: string): string => dataset;
export const deadLetterTopicName = (dataset: string): string => `${dataset}-dead-letter`;
export const subscriptionName = (dataset: string): string => `${dataset}-ingest`;
/** The pull subscription of the local pull delivery mode (`DUCTO_DELIVERY=pull`); not created in the cloud. */
export const pullSubscriptionName = (dataset: string): string => `${dataset}-pull`;
export const deadLetterSubscriptionName = (dataset: string): string => `${dataset}-dead-letter-sub`;

/** Values the cloud uses; tests pass a shorter backoff. */
export const TOPOLOGY_DEFAULTS = {
  // The ingest acknowledges only after its micro-batch is durably written, which in BigQuery can
  // take seconds: 10 s (Pub/Sub's default) would redeliver batches that are about to succeed.
  ackDeadlineSeconds: 60,
  minBackoffSeconds: 10,
  maxBackoffSeconds: 600,
  maxDeliveryAttempts: 5,
  retentionDays: 7,
} as const;

export interface TopologyOptions {
  datasets: string[];
  /** The ingest URL each dataset's push subscription delivers to. */
  pushEndpoint: (dataset: string) => string;
  /**
   * `push` (the cloud's form, the default): the push subscription `<dataset>-ingest`. `pull`: the
   * pull subscription `<dataset>-pull` instead, with the same retry, dead-letter, retention and
   * expiration settings, for the local pull bridge (src/pubsub/pull-bridge.ts). One of the two
   * only: with both, every message would be ingested twice. A push subscription left by an earlier
   * push-mode run on a long-lived emulator is deleted in pull mode for the same reason (and the
   * pull subscription in push mode).
   */
  delivery?: 'push' | 'pull';
  ackDeadlineSeconds?: number;
  minBackoffSeconds?: number;
  maxBackoffSeconds?: number;
  maxDeliveryAttempts?: number;
  retentionDays?: number;
}

export interface DatasetTopology {
  dataset: string;
  /** Full resource paths (`projects/P/topics/T`, `projects/P/subscriptions/S`). */
  topic: string;
  deadLetterTopic: string;
  /** The subscription ingest consumes: the push one, or the pull one in pull mode. */
  subscription: string;
  deadLetterSubscription: string;
  /** The push endpoint, or null in pull mode. */
  pushEndpoint: string | null;
  delivery: 'push' | 'pull';
}

const NOT_FOUND = 5;
const ALREADY_EXISTS = 6;

// Pub/Sub ids: 3–255 characters, a letter first, never starting with "goog". A dataset name
// (^[a-z][a-z0-9_]{0,62}$) can break the first and last rule, so it is checked before any call.
function checkName(id: string, dataset: string): void {
  if (
    id.length < 3 ||
    id.length > 255 ||
    !/^[A-Za-z][A-Za-z0-9\-_.~+%]*$/.test(id) ||
    id.startsWith('goog')
  ) {
    throw new DuctoError(
      'config_invalid',
      `dataset "${dataset}" cannot name the Pub/Sub resource "${id}" (3-255 characters, not starting with "goog")`,
    );
  }
}

function isAlreadyExists(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === ALREADY_EXISTS;
}

async function ensureTopic(pubsub: PubSub, id: string): Promise<string> {
  try {
    await pubsub.createTopic(id);
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
  }
  return pubsub.topic(id).name;
}

async function deleteSubscriptionIfExists(pubsub: PubSub, id: string): Promise<void> {
  try {
    await pubsub.subscription(id).delete();
  } catch (e) {
    if ((e as { code?: unknown } | null)?.code !== NOT_FOUND) throw e;
  }
}

type SubscriptionSettings = Parameters<Subscription['create']>[0];

async function ensureSubscription(
  pubsub: PubSub,
  topic: string,
  id: string,
  settings: NonNullable<SubscriptionSettings>,
): Promise<string> {
  const subscription = pubsub.subscription(id);
  try {
    await pubsub.topic(topic).createSubscription(id, settings);
    return subscription.name;
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
  }
  const [existing] = await subscription.getMetadata();
  if (existing.topic !== pubsub.topic(topic).name) {
    // A subscription outlives its topic (it then shows "_deleted-topic_"); it cannot be re-pointed.
    throw new DuctoError(
      'config_invalid',
      `subscription ${id} exists but is attached to ${existing.topic}, not ${topic}`,
    );
  }
  const wanted = settings.pushConfig?.pushEndpoint ?? '';
  // The ingest port can change between runs of a long-lived emulator.
  if ((existing.pushConfig?.pushEndpoint ?? '') !== wanted) {
    await subscription.modifyPushConfig(wanted === '' ? {} : { pushEndpoint: wanted });
  }
  // Made by an older release without it: kept acknowledged messages are what a seek replays.
  if (settings.retainAckedMessages && !existing.retainAckedMessages) {
    await subscription.setMetadata({ retainAckedMessages: true });
  }
  return subscription.name;
}

/**
 * Creates, per dataset, what the cloud Terraform creates: the topic, its dead-letter topic, the
 * push subscription to the ingest endpoint (retry policy, dead-letter policy, retention) and a pull
 * subscription on the dead-letter topic, without which dead letters would be dropped. Idempotent:
 * what exists is kept, and a push subscription pointing elsewhere is re-pointed. With `delivery:
 * 'pull'` the ingest subscription is the pull subscription `<dataset>-pull` (same settings).
 */
export async function ensureTopology(pubsub: PubSub, options: TopologyOptions): Promise<DatasetTopology[]> {
  const o = { ...TOPOLOGY_DEFAULTS, ...options };
  const delivery = o.delivery ?? 'push';
  const ingestName = delivery === 'pull' ? pullSubscriptionName : subscriptionName;
  const otherName = delivery === 'pull' ? subscriptionName : pullSubscriptionName;
  for (const dataset of o.datasets) {
    for (const id of [topicName, deadLetterTopicName, ingestName, deadLetterSubscriptionName]) {
      checkName(id(dataset), dataset);
    }
  }
  const retention = { seconds: o.retentionDays * 86_400 };
  return Promise.all(
    o.datasets.map(async (dataset) => {
      const [topic, deadLetterTopic] = await Promise.all([
        ensureTopic(pubsub, topicName(dataset)),
        ensureTopic(pubsub, deadLetterTopicName(dataset)),
      ]);
      const pushEndpoint = delivery === 'push' ? o.pushEndpoint(dataset) : null;
      const [subscription, deadLetterSubscription] = await Promise.all([
        ensureSubscription(pubsub, topicName(dataset), ingestName(dataset), {
          // No push config: a pull subscription.
          ...(pushEndpoint !== null && { pushConfig: { pushEndpoint } }),
          ackDeadlineSeconds: o.ackDeadlineSeconds,
          retryPolicy: {
            minimumBackoff: { seconds: o.minBackoffSeconds },
            maximumBackoff: { seconds: o.maxBackoffSeconds },
          },
          deadLetterPolicy: { deadLetterTopic, maxDeliveryAttempts: o.maxDeliveryAttempts },
          messageRetentionDuration: retention,
          // As in Terraform: acknowledged messages are kept too, so `ducto replay --seek` can replay them.
          retainAckedMessages: true,
          // The default deletes a subscription after 31 days without deliveries: a quiet dataset
          // would lose its ingest path.
          expirationPolicy: {},
        }),
        ensureSubscription(pubsub, deadLetterTopicName(dataset), deadLetterSubscriptionName(dataset), {
          messageRetentionDuration: retention,
          retainAckedMessages: true,
          // Nobody pulls dead letters until someone looks, which must not make the subscription expire.
          expirationPolicy: {},
        }),
        deleteSubscriptionIfExists(pubsub, otherName(dataset)),
      ]);
      return {
        dataset,
        topic,
        deadLetterTopic,
        subscription,
        deadLetterSubscription,
        pushEndpoint,
        delivery,
      };
    }),
  );
}
