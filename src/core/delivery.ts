import { DuctoError } from './errors.ts';

/** One Pub/Sub message, however it arrived (push envelope or CloudEvent). */
export interface PubSubMessage {
  /** Decoded message data; `undefined` when the base64 was invalid. */
  data: Uint8Array | undefined;
  attributes: Record<string, string>;
  messageId: string;
  /** Publish time in epoch microseconds, or null when absent. */
  publishTime: number | null;
}

export interface Delivery {
  message: PubSubMessage;
  /** Full subscription path, e.g. `projects/p/subscriptions/flights-ingest`, when known. */
  subscription: string | null;
  /** Full topic path, from a CloudEvent's source, when known. */
  topic: string | null;
}

/**
 * The largest push request Pub/Sub can send: a 10 MB message, base64-encoded (×4/3), inside its
 * JSON envelope. Hosts accept bodies up to this size so that an oversize message reaches the decoder
 * and is kept in `<dataset>_rejected` as `oversize` (acknowledged), instead of a 413 that Pub/Sub
 * would retry until it dead-letters the message. Anything larger cannot come from Pub/Sub.
 */
export const PUSH_BODY_LIMIT_BYTES = 14 * 1024 * 1024;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

function decodeData(data: unknown): Uint8Array | undefined {
  if (data === undefined || data === null || data === '') return new Uint8Array(0);
  if (typeof data !== 'string') return undefined;
  if (data.length % 4 === 1 || !(BASE64.test(data) || BASE64URL.test(data))) return undefined;
  return Buffer.from(data, 'base64');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseMessage(raw: unknown): PubSubMessage {
  if (!isRecord(raw)) throw new DuctoError('bad_envelope', 'the body has no "message" object');
  const messageId = raw.messageId ?? raw.message_id;
  if (typeof messageId !== 'string' || messageId.length === 0 || messageId.length > 256) {
    throw new DuctoError('bad_envelope', 'message.messageId must be a non-empty string');
  }
  const attributes: Record<string, string> = {};
  if (raw.attributes !== undefined && raw.attributes !== null) {
    if (!isRecord(raw.attributes))
      throw new DuctoError('bad_envelope', 'message.attributes must be an object');
    for (const [k, v] of Object.entries(raw.attributes)) {
      if (typeof v !== 'string')
        throw new DuctoError('bad_envelope', `attribute "${k.slice(0, 64)}" must be a string`);
      attributes[k] = v;
    }
  }
  const publishRaw = raw.publishTime ?? raw.publish_time;
  let publishTime: number | null = null;
  if (typeof publishRaw === 'string') {
    const ms = Date.parse(publishRaw);
    if (!Number.isNaN(ms)) {
      // Pub/Sub gives nanoseconds; keep the microseconds Date.parse drops.
      const frac = /\.(\d{4,9})Z$/.exec(publishRaw)?.[1];
      publishTime = ms * 1000 + (frac ? Number(frac.padEnd(6, '0').slice(3, 6)) : 0);
    }
  }
  return { data: decodeData(raw.data), attributes, messageId, publishTime };
}

/**
 * Decodes what Google delivers to an ingest endpoint: a Pub/Sub push envelope
 * `{message, subscription}`, a structured-mode CloudEvent (`{specversion, source, data: {message,
 * subscription}}`) or a binary-mode CloudEvent (the same data as body, `ce-*` headers).
 */
export function decodeDelivery(
  body: unknown,
  headers: Record<string, string | string[] | undefined> = {},
): Delivery {
  if (!isRecord(body)) throw new DuctoError('bad_envelope', 'the body must be a JSON object');
  let payload: Record<string, unknown> = body;
  let source: unknown = headers['ce-source'];
  if (typeof body.specversion === 'string') {
    if (!isRecord(body.data)) throw new DuctoError('bad_envelope', 'the CloudEvent has no data object');
    payload = body.data;
    source = body.source;
  }
  const message = parseMessage(payload.message);
  const subscription = typeof payload.subscription === 'string' ? payload.subscription : null;
  // A CloudEvent's source is //pubsub.googleapis.com/projects/P/topics/T.
  const topic =
    typeof source === 'string' ? (/projects\/[^/]+\/topics\/[^/]+$/.exec(source)?.[0] ?? null) : null;
  return { message, subscription, topic };
}

/** Encodes a push envelope as Pub/Sub sends it (used by `ducto publish` in direct mode and by tests). */
export function encodePushEnvelope(
  data: Uint8Array | string,
  messageId: string,
  attributes: Record<string, string> = {},
  subscription = 'projects/ducto-local/subscriptions/direct',
  publishTime: Date = new Date(),
): string {
  return JSON.stringify({
    message: {
      data: Buffer.from(data).toString('base64'),
      attributes,
      messageId,
      message_id: messageId,
      publishTime: publishTime.toISOString(),
      publish_time: publishTime.toISOString(),
    },
    subscription,
  });
}
