/**
 * Every error ducto reports has a stable code. This table is the one place that says what a code
 * means on each edge: the HTTP status of the API or ingest response, and for a message whether it
 * is acknowledged (kept in `<dataset>_rejected`, never retried) or left for Pub/Sub to redeliver.
 * Logs carry the code; metrics and alerts key on it.
 */
export const ERROR_CODES = {
  // A message that can never become a valid event: acknowledged and stored in <dataset>_rejected.
  empty_message: { status: 204, disposition: 'reject', title: 'The message has no data' },
  bad_base64: { status: 204, disposition: 'reject', title: 'The message data is not valid base64' },
  invalid_utf8: { status: 204, disposition: 'reject', title: 'The message data is not valid UTF-8' },
  oversize: { status: 204, disposition: 'reject', title: 'The message is larger than the limit' },
  not_json: { status: 204, disposition: 'reject', title: 'The message data is not JSON' },
  not_object: { status: 204, disposition: 'reject', title: 'The message data is not a JSON object' },
  missing_field: { status: 204, disposition: 'reject', title: 'A required field is missing' },
  unknown_field: {
    status: 204,
    disposition: 'reject',
    title: 'The record has a field the schema does not declare',
  },
  wrong_type: { status: 204, disposition: 'reject', title: 'A field has the wrong type' },
  out_of_range: { status: 204, disposition: 'reject', title: 'A number is outside the allowed range' },
  too_long: { status: 204, disposition: 'reject', title: 'A string is longer than allowed' },
  bad_format: {
    status: 204,
    disposition: 'reject',
    title: 'A string does not match the declared pattern or values',
  },
  bad_time: { status: 204, disposition: 'reject', title: 'The event time is not in a declared format' },
  impossible_time: {
    status: 204,
    disposition: 'reject',
    title: 'The event time does not exist or is out of range',
  },
  bad_event_id: { status: 204, disposition: 'reject', title: 'The event id is empty or too long' },
  unknown_dataset: { status: 204, disposition: 'reject', title: 'The message names no known dataset' },
  warehouse_rejected: { status: 204, disposition: 'reject', title: 'The warehouse refused the row' },

  // Transient: not acknowledged, so Pub/Sub redelivers (and dead-letters after the configured attempts).
  overloaded: { status: 429, disposition: 'retry', title: 'The writer is at capacity; retry later' },
  warehouse_unavailable: { status: 503, disposition: 'retry', title: 'The warehouse is unavailable' },
  shutting_down: { status: 503, disposition: 'retry', title: 'The server is shutting down' },

  // HTTP request errors (API and the ingest endpoint itself).
  bad_envelope: {
    status: 400,
    disposition: 'http',
    title: 'The request body is not a Pub/Sub push or CloudEvent',
  },
  bad_request: { status: 400, disposition: 'http', title: 'The request is malformed' },
  unknown_parameter: {
    status: 400,
    disposition: 'http',
    title: 'The query has a parameter this dataset does not accept',
  },
  bad_parameter: { status: 400, disposition: 'http', title: 'A query parameter has an invalid value' },
  bad_cursor: {
    status: 400,
    disposition: 'http',
    title: 'The cursor is invalid or belongs to another query',
  },
  query_too_large: { status: 414, disposition: 'http', title: 'The query string is too long' },
  not_found: { status: 404, disposition: 'http', title: 'Not found' },
  method_not_allowed: { status: 405, disposition: 'http', title: 'Method not allowed' },
  not_acceptable: { status: 406, disposition: 'http', title: 'No representation matches the Accept header' },
  payload_too_large: { status: 413, disposition: 'http', title: 'The request body is too large' },
  unsupported_media_type: { status: 415, disposition: 'http', title: 'Unsupported content type' },
  result_too_large: {
    status: 422,
    disposition: 'http',
    title: 'The result is larger than the response limit',
  },
  query_timeout: { status: 504, disposition: 'http', title: 'The warehouse did not answer in time' },
  internal: { status: 500, disposition: 'http', title: 'Internal error' },

  // Start-up.
  config_invalid: { status: 500, disposition: 'fatal', title: 'Invalid configuration' },
  schema_invalid: { status: 500, disposition: 'fatal', title: 'Invalid dataset schema' },
} as const satisfies Record<
  string,
  { status: number; disposition: 'reject' | 'retry' | 'http' | 'fatal'; title: string }
>;

export type ErrorCode = keyof typeof ERROR_CODES;
export type RejectCode = {
  [K in ErrorCode]: (typeof ERROR_CODES)[K]['disposition'] extends 'reject' ? K : never;
}[ErrorCode];

export class DuctoError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra fields safe to show a client (problem+json extension members). */
  readonly details: Record<string, unknown> | undefined;
  /** Seconds a client should wait before retrying (sent as Retry-After). */
  readonly retryAfter: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown>; retryAfter?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DuctoError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.details = options.details;
    this.retryAfter = options.retryAfter;
  }
}
