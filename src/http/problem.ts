import { DuctoError, ERROR_CODES } from '../core/errors.ts';
import type { HttpResponse } from './types.ts';

/**
 * An RFC 9457 problem+json response with the stable error `code`. A fault that is not a DuctoError
 * becomes a bare 500 `internal`: its message and stack stay in the log, never in the body.
 */
export function problem(error: unknown, instance?: string): HttpResponse {
  const e = error instanceof DuctoError ? error : new DuctoError('internal', 'internal error');
  const body = {
    // A URN, not a URL: the catalogue is docs/errors.md, wherever the repository is hosted.
    type: `urn:ducto:error:${e.code}`,
    title: ERROR_CODES[e.code].title,
    status: e.status,
    code: e.code,
    detail: e.message,
    ...(instance !== undefined && { instance }),
    ...e.details,
  };
  const headers: Record<string, string> = {
    'content-type': 'application/problem+json; charset=utf-8',
    'cache-control': 'no-store',
  };
  if (e.retryAfter !== undefined) headers['retry-after'] = String(e.retryAfter);
  return { status: e.status, headers, body: JSON.stringify(body) };
}
