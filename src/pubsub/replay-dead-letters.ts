/**
 * `ducto replay --dead-letters`: pulls a dataset's dead-letter subscription and publishes each message's
 * data and attributes again to the dataset's topic. A dead letter is acknowledged only after its
 * republish succeeded; one whose republish failed is released at once and stays on the subscription.
 * The message keeps its `event_id` attribute, so ingest stores it once however often it is replayed.
 */
import { type PubSub, v1 } from '@google-cloud/pubsub';
import type { google } from '@google-cloud/pubsub/build/protos/protos.js';
import { ORIGINAL_MESSAGE_ID } from '../core/classify.ts';

/**
 * Attributes Pub/Sub adds (when it dead-letters a message, `CloudPubSubDeadLetter*`; on a topic with a
 * schema, the reserved `goog*`): not the producer's, so not republished.
 */
const PUBSUB_ATTRIBUTE = /^(CloudPubSubDeadLetter|goog)/;

/** How long a pulled dead letter stays leased to this run (the subscription's own deadline is 10 s). */
const LEASE_SECONDS = 600;

export interface DeadLetterReplayOptions {
  pubsub: PubSub;
  /** Short subscription id, e.g. `flights-dead-letter-sub`. */
  subscription: string;
  /** Short topic id the messages go back to, e.g. `flights`. */
  topic: string;
  /** Most messages to move (or count, in a dry run); null for all. */
  limit: number | null;
  /** Count what is there, by attribute, and move nothing. */
  dryRun: boolean;
  /** Messages per pull request. Default 100. */
  batch?: number;
  /** How long one pull waits for messages before the subscription counts as drained. Default 5 s. */
  pullTimeoutMs?: number;
  onProgress?: (done: number) => void;
}

export interface DeadLetterReplaySummary {
  /** Dead letters read. */
  read: number;
  /** Republished and acknowledged. */
  republished: number;
  /** Whose republish failed: released, still on the subscription. */
  failed: number;
  /** In a dry run: counts by `dataset` attribute, by source subscription, and by delivery attempts. */
  byAttribute: Record<string, Record<string, number>>;
  /** The first republish error, to say why. */
  firstError: string | null;
}

type Received = google.pubsub.v1.IReceivedMessage;

function count(into: Record<string, Record<string, number>>, key: string, value: string | undefined): void {
  into[key] ??= {};
  const bucket = into[key];
  const v = value ?? '(none)';
  bucket[v] = (bucket[v] ?? 0) + 1;
}

/**
 * Pulls until the subscription is drained or the limit is reached. Every message pulled stays leased to
 * this run (so no pull returns it twice) until it is acknowledged, or released at the end: a dry run
 * releases all, a replay those whose republish failed, which stay on the subscription.
 */
export async function replayDeadLetters(o: DeadLetterReplayOptions): Promise<DeadLetterReplaySummary> {
  const config = await o.pubsub.getClientConfig();
  const subscriber = new v1.SubscriberClient({
    ...config,
    port: config.port === undefined ? undefined : Number(config.port),
  });
  const subscription = `projects/${o.pubsub.projectId}/subscriptions/${o.subscription}`;
  const topic = o.pubsub.topic(o.topic, { batching: { maxMessages: 100, maxMilliseconds: 10 } });
  const summary: DeadLetterReplaySummary = {
    read: 0,
    republished: 0,
    failed: 0,
    byAttribute: {},
    firstError: null,
  };
  const seen = new Set<string>();
  const release: string[] = [];
  try {
    for (;;) {
      const want = Math.min(
        o.batch ?? 100,
        o.limit === null ? Number.POSITIVE_INFINITY : o.limit - summary.read,
      );
      if (want <= 0) break;
      const pulled = await pull(subscriber, subscription, want, o.pullTimeoutMs ?? 5_000);
      if (pulled.length === 0) break;
      await subscriber.modifyAckDeadline({
        subscription,
        ackIds: pulled.map((m) => m.ackId!),
        ackDeadlineSeconds: LEASE_SECONDS,
      });
      // A message whose lease ran out anyway comes back: counted once, and the end of the queue.
      const fresh = pulled.filter((m) => !seen.has(m.message?.messageId ?? m.ackId!));
      for (const m of pulled) if (!fresh.includes(m)) release.push(m.ackId!);
      if (fresh.length === 0) break;
      for (const m of fresh) seen.add(m.message?.messageId ?? m.ackId!);
      summary.read += fresh.length;
      if (o.dryRun) {
        for (const m of fresh) {
          const a = m.message?.attributes ?? {};
          count(summary.byAttribute, 'dataset', a.dataset);
          count(summary.byAttribute, 'source subscription', a.CloudPubSubDeadLetterSourceSubscription);
          count(summary.byAttribute, 'delivery attempts', a.CloudPubSubDeadLetterSourceDeliveryCount);
          release.push(m.ackId!);
        }
      } else {
        const outcomes = await Promise.all(fresh.map((m) => republish(topic, m)));
        const acked = fresh.filter((_, i) => outcomes[i] === null).map((m) => m.ackId!);
        // Acknowledged only once its copy is on the topic: a crash before this line replays it again,
        // which the event id makes harmless; a crash after loses nothing.
        if (acked.length > 0) await subscriber.acknowledge({ subscription, ackIds: acked });
        // A failed one stays leased until the end, so the run goes on past it instead of pulling it again.
        for (const [i, m] of fresh.entries()) if (outcomes[i] !== null) release.push(m.ackId!);
        summary.republished += acked.length;
        summary.failed += fresh.length - acked.length;
        summary.firstError ??= outcomes.find((e) => e !== null) ?? null;
      }
      o.onProgress?.(summary.read);
    }
  } finally {
    for (let i = 0; i < release.length; i += 1_000)
      await subscriber
        .modifyAckDeadline({ subscription, ackIds: release.slice(i, i + 1_000), ackDeadlineSeconds: 0 })
        .catch(() => undefined);
    await topic.flush().catch(() => undefined);
    await subscriber.close();
  }
  return summary;
}

async function pull(
  client: v1.SubscriberClient,
  subscription: string,
  maxMessages: number,
  timeoutMs: number,
) {
  try {
    const [response] = await client.pull({ subscription, maxMessages }, { timeout: timeoutMs, retry: null });
    return response.receivedMessages ?? [];
  } catch (e) {
    // DEADLINE_EXCEEDED: nothing arrived in time, the subscription is drained.
    if ((e as { code?: number }).code === 4) return [] as Received[];
    throw e;
  }
}

/** Publishes the message's data and the producer's attributes; resolves to null, or the error text. */
async function republish(topic: ReturnType<PubSub['topic']>, m: Received): Promise<string | null> {
  const attributes = Object.fromEntries(
    Object.entries(m.message?.attributes ?? {}).filter(([k]) => !PUBSUB_ATTRIBUTE.test(k)),
  );
  // Without an event_id, ingest would key the copy on its new message id: keep the one it came with.
  if (
    attributes.event_id === undefined &&
    attributes[ORIGINAL_MESSAGE_ID] === undefined &&
    m.message?.messageId
  )
    attributes[ORIGINAL_MESSAGE_ID] = m.message.messageId;
  try {
    await topic.publishMessage({ data: Buffer.from(m.message?.data ?? new Uint8Array()), attributes });
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}
