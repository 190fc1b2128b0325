/**
 * What a message is, once: an event with the id it is stored under, or a rejection with its reason.
 * Ingest classifies each delivery with it, and `ducto replay --rejected` classifies a kept payload again
 * with the current schemas, so a replayed message gets exactly the event id ingest would have given it.
 */
import type { RejectCode } from './errors.ts';
import type { Fields, RecordResult } from './record.ts';

export const MAX_EVENT_ID = 256;

/**
 * Set on a dead letter republished without an `event_id` (pubsub/replay-dead-letters.ts): the message
 * id it first had, ingest's last fallback for the event id, so a replay run again after a crash between
 * its publish and its ack stores one event, not two.
 */
export const ORIGINAL_MESSAGE_ID = 'ducto_original_message_id';

export type Classified =
  | { ok: true; eventId: string; fields: Fields }
  | { ok: false; code: RejectCode; detail: string };

export interface ClassifyInput {
  /** The message data; undefined when it could not be decoded from base64. */
  data: Uint8Array | undefined;
  attributes: Record<string, string>;
  messageId: string;
}

/**
 * `decode` is the decoder of the dataset the message names, undefined when it names none that exists
 * (`named` says which, for the reason). The event id: the `event_id` attribute, else the schema's key,
 * else the Pub/Sub message id (the original one, for a replayed dead letter).
 */
export function classify(
  message: ClassifyInput,
  decode: ((data: Uint8Array) => RecordResult) | undefined,
  named: string | null,
): Classified {
  const attrId = message.attributes.event_id;
  if (!decode)
    return {
      ok: false,
      code: 'unknown_dataset',
      detail: named === null ? 'no dataset named' : `no dataset "${named.slice(0, 64)}"`,
    };
  if (message.data === undefined)
    return { ok: false, code: 'bad_base64', detail: 'message.data is not valid base64' };
  if (attrId !== undefined && (attrId.length === 0 || attrId.length > MAX_EVENT_ID))
    return { ok: false, code: 'bad_event_id', detail: `event_id must have 1 to ${MAX_EVENT_ID} characters` };
  const result = decode(message.data);
  if (!result.ok) return { ok: false, code: result.code, detail: result.detail };
  const messageKey = message.attributes[ORIGINAL_MESSAGE_ID] ?? message.messageId;
  return { ok: true, eventId: attrId ?? result.key ?? messageKey, fields: result.fields };
}
