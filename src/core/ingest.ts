import type { MicroBatcher, WriteOutcome } from './batcher.ts';
import { classify } from './classify.ts';
import type { DatasetSchema } from './dataset-schema.ts';
import type { Delivery } from './delivery.ts';
import type { RejectCode } from './errors.ts';
import { createRecordDecoder } from './record.ts';

export interface IngestOptions {
  schemas: ReadonlyMap<string, DatasetSchema>;
  /** Where a message naming no known dataset is kept (in `<dataset>_rejected`). */
  defaultDataset: string;
  batcher: MicroBatcher;
  maxMessageBytes: number;
  now?: () => number;
}

export interface IngestResult {
  dataset: string;
  eventId: string | null;
  messageId: string;
  outcome: WriteOutcome;
  /** The reject reason, when the outcome is `rejected`. */
  code?: RejectCode;
  detail?: string;
  /** Publish time (epoch µs) when Pub/Sub gave one: the start of end-to-end latency. */
  publishTime: number | null;
}

/**
 * The dataset of a delivery, most explicit first: the endpoint's `?dataset=` (set in the push
 * subscription's URL), the message's `dataset` attribute, the subscription `<dataset>-ingest`, the
 * topic a CloudEvent names.
 */
export function datasetOfDelivery(delivery: Delivery, hint: string | null): string | null {
  if (hint) return hint;
  const attr = delivery.message.attributes.dataset;
  if (attr) return attr;
  const sub =
    delivery.subscription &&
    /\/subscriptions\/(?:.*[-.])?([a-z][a-z0-9_]*)-ingest$/.exec(delivery.subscription);
  if (sub) return sub[1]!;
  const topic = delivery.topic && /\/topics\/(?:.*[-.])?([a-z][a-z0-9_]*)$/.exec(delivery.topic);
  return topic ? topic[1]! : null;
}

/**
 * Decode → validate → classify → hand to the writer. Resolves once the message's row (or its
 * rejected row) is durably written; throws a DuctoError with a `retry` code when it is not, so the
 * edge answers non-2xx and Pub/Sub redelivers.
 */
export function createIngest(
  options: IngestOptions,
): (delivery: Delivery, datasetHint: string | null) => Promise<IngestResult> {
  const now = options.now ?? (() => Date.now() * 1000);
  const decoders = new Map(
    [...options.schemas].map(([name, s]) => [
      name,
      createRecordDecoder(s, { maxBytes: options.maxMessageBytes }),
    ]),
  );

  return async (delivery, hint) => {
    const { message } = delivery;
    const receivedAt = now();
    const attrId = message.attributes.event_id;
    const named = datasetOfDelivery(delivery, hint);
    const decode = named === null ? undefined : decoders.get(named);
    const dataset = decode ? named! : options.defaultDataset;

    const result = classify(message, decode, named);

    if (!result.ok) {
      const outcome = await options.batcher.submitRejected(dataset, {
        messageId: message.messageId,
        eventId: attrId ?? null,
        code: result.code,
        detail: result.detail,
        // An oversize payload is kept up to the limit only: one rejected row must not be able to
        // push a warehouse write request past its own size limit.
        payload:
          message.data && result.code === 'oversize'
            ? message.data.subarray(0, options.maxMessageBytes)
            : (message.data ?? null),
        attributes: message.attributes,
        publishTime: message.publishTime,
        receivedAt,
      });
      return {
        dataset,
        eventId: attrId ?? null,
        messageId: message.messageId,
        outcome,
        code: result.code,
        detail: result.detail,
        publishTime: message.publishTime,
      };
    }

    const { eventId } = result;
    const outcome = await options.batcher.submitRow(dataset, {
      eventId,
      fields: result.fields,
      publishTime: message.publishTime,
      ingestedAt: receivedAt,
    });
    const written = {
      dataset,
      eventId,
      messageId: message.messageId,
      outcome,
      publishTime: message.publishTime,
    };
    // A valid row the warehouse refused was kept as a rejected row: that is the writer's only
    // reason to answer `rejected` for one (src/core/batcher.ts).
    return outcome === 'rejected' ? { ...written, code: 'warehouse_rejected' } : written;
  };
}
