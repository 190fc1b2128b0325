/**
 * What the two descriptions of the API share, so they cannot disagree: the OpenAPI 3.1 document the
 * API serves (derive/openapi.ts) and the Swagger 2.0 document API Gateway enforces
 * (derive/swagger2.ts). Consumers send an API key in a header; a few routes are open to anyone.
 */

/** The API key as API Gateway checks it (Swagger 2.0 `securityDefinitions`, OpenAPI `securitySchemes`). */
export const API_KEY = {
  scheme: 'api_key',
  header: 'x-api-key',
  description:
    'An API key of the deployment, sent in the x-api-key header; API Gateway checks it and applies the quota of its consumer. The local stack has no gateway and asks for none.',
} as const;

/** API routes the gateway serves without a key. */
export const PUBLIC_ROUTES = ['/healthz', '/openapi.json'] as const;

/** The reference page and its scripts (src/api/docs-page.ts): open, and not API operations. */
export const DOCS_ROUTES = ['/docs', '/docs/redoc.standalone.js', '/docs/init.js'] as const;

/** What the gateway answers for a keyed route before the API sees the request. */
export const GATEWAY_ERRORS = {
  '401': 'No API key, or one the gateway does not know (answered by API Gateway).',
  '403': 'The API key is not allowed to call this API (answered by API Gateway).',
  '429': "The consumer's quota is spent (answered by API Gateway).",
} as const;

export const LICENSE = { name: 'Apache-2.0', identifier: 'Apache-2.0' } as const;

export const CONTACT = {
  name: 'The operators of this ducto deployment',
} as const;
