import { DuctoError } from '../core/errors.ts';

export type Representation = 'json' | 'ndjson' | 'csv';

const OFFERED: Array<[string, Representation]> = [
  ['application/json', 'json'],
  ['application/x-ndjson', 'ndjson'],
  ['text/csv', 'csv'],
];

/** Picks the representation from an Accept header by q-value (RFC 9110 §12.5.1); 406 when none fits. */
export function negotiate(accept: string | undefined): Representation {
  if (!accept || accept.trim() === '') return 'json';
  let best: { rep: Representation; q: number; specificity: number } | null = null;
  for (const part of accept.split(',').slice(0, 32)) {
    const [rawType, ...rawParams] = part.trim().split(';');
    const type = (rawType ?? '').trim().toLowerCase();
    let q = 1;
    for (const p of rawParams) {
      const [k, v] = p.trim().split('=');
      if (k === 'q') q = Number(v);
    }
    if (!Number.isFinite(q) || q <= 0) continue;
    for (const [mime, rep] of OFFERED) {
      const [major] = mime.split('/');
      const specificity = type === mime ? 2 : type === `${major}/*` ? 1 : type === '*/*' ? 0 : -1;
      if (specificity < 0) continue;
      // Among equal q, the more specific range wins; a wildcard keeps JSON, the default.
      if (!best || q > best.q || (q === best.q && specificity > best.specificity))
        best = { rep, q, specificity };
    }
  }
  if (!best)
    throw new DuctoError(
      'not_acceptable',
      'this route offers application/json, application/x-ndjson and text/csv',
    );
  return best.rep;
}
