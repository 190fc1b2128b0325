import { Duration, type Message, type PubSub, type Subscription } from '@google-cloud/pubsub';
import type { Delivery } from '../core/delivery.ts';
import { DuctoError } from '../core/errors.ts';
import type { IngestFn } from '../instrument-ingest.ts';
import type { Logger } from '../logger.ts';
import { pullSubscriptionName } from './topology.ts';

/*
 * The local pull delivery mode (`DUCTO_DELIVERY=pull`). The emulator's push loop sends one message
 * at a time per subscription and waits for each answer, so push through the emulator tops out at a
 * few hundred messages per second, while real Pub/Sub push keeps many requests in flight. This
 * bridge stands in for that concurrency: a streaming-pull subscriber per dataset hands every
 * message to the same ingest function as the push endpoint, with the same acknowledgement rule
 * (ack once the row or its rejected row is durably written; nack on a transient failure, so Pub/Sub
 * redelivers under the subscription's retry and dead-letter policy). The cloud keeps push.
 */

export interface PullBridgeOptions {
  pubsub: PubSub;
  datasets: string[];
  /** The ingest the push endpoint runs (`App.ingest`, which counts every outcome). */
  ingest: IngestFn;
  logger: Logger;
  /** Messages one dataset's subscriber holds unacknowledged at most (flow control). */
  maxMessages: number;
  /** How long `stop` lets messages in hand finish before nacking what is left. */
  closeTimeoutSeconds?: number;
}

export interface PullBridgeCounts {
  received: number;
  acked: number;
  nacked: number;
}

export interface PullBridge {
  /** Full subscription paths, one per dataset. */
  subscriptions: string[];
  /** Messages received, acknowledged and negatively acknowledged since the start. */
  counts(): PullBridgeCounts;
  /**
   * Stops pulling, lets the messages in hand reach their ack or nack (the writer must still be open),
   * then closes the subscribers. Safe to call twice.
   */
  stop(): Promise<void>;
}

/**
 * The `Delivery` the push endpoint would have decoded from this message's push envelope. The client
 * hands over typed fields (bytes, string attributes, a nanosecond publish time), so there is nothing
 * to validate or base64-decode again; a test holds the two paths equal.
 */
export function deliveryOf(message: Message, subscription: string): Delivery {
  return {
    message: {
      data: message.data,
      attributes: { ...message.attributes },
      messageId: message.id,
      publishTime: Number(message.publishTime.getFullTime() / 1000n),
    },
    subscription,
    topic: null,
  };
}

export function startPullBridge(options: PullBridgeOptions): PullBridge {
  const { ingest, logger } = options;
  const counts: PullBridgeCounts = { received: 0, acked: 0, nacked: 0 };
  const subscriptions: Subscription[] = [];

  const handle = async (dataset: string, name: string, message: Message): Promise<void> => {
    counts.received++;
    try {
      await ingest(deliveryOf(message, name), dataset);
      message.ack();
      counts.acked++;
    } catch (error) {
      // What the push endpoint answers non-2xx to: left to Pub/Sub's retry, then its dead letter.
      if (!(error instanceof DuctoError)) {
        logger.error(
          { code: 'internal', err: error, dataset, messageId: message.id },
          'pull delivery failed',
        );
      }
      message.nack();
      counts.nacked++;
    }
  };

  for (const dataset of options.datasets) {
    const subscription = options.pubsub.subscription(pullSubscriptionName(dataset), {
      flowControl: { maxMessages: options.maxMessages, allowExcessMessages: false },
      closeOptions: {
        behavior: 'WAIT',
        timeout: Duration.from({ seconds: options.closeTimeoutSeconds ?? 30 }),
      },
    });
    const name = subscription.name;
    subscription.on('message', (message: Message) => void handle(dataset, name, message));
    // The client retries transient stream errors itself; what reaches here is not transient.
    subscription.on('error', (err: unknown) =>
      logger.error({ code: 'internal', err, dataset, subscription: name }, 'pull subscriber failed'),
    );
    subscriptions.push(subscription);
  }

  let stopping: Promise<void> | null = null;
  return {
    subscriptions: subscriptions.map((s) => s.name),
    counts: () => ({ ...counts }),
    stop: () => {
      stopping ??= (async () => {
        // close() ends the stream at once, then waits (closeOptions) for the messages in hand: the
        // message listener stays, since the client may still hand over messages it held back.
        await Promise.all(subscriptions.map((s) => s.close()));
      })();
      return stopping;
    },
  };
}
