/**
 * The typed client's types are generated, never edited: the committed clients/typescript/src/schema.ts
 * must equal a fresh generation from the OpenAPI document of the schema files.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLIENT_SCHEMA, generateClientSchema } from '../scripts/generate-client.ts';
import { ROOT } from '../support/root.ts';

describe('clients/typescript/src/schema.ts', () => {
  it('is what `npm run client:generate` writes for the schema files (regenerate after a schema change)', async () => {
    const fresh = await generateClientSchema(join(ROOT, 'schemas'));
    expect(readFileSync(CLIENT_SCHEMA, 'utf8')).toBe(fresh);
    // A document that changed would change it: the comparison is not vacuous.
    expect(fresh).toContain("'/v1/flights/stats'".replace(/'/g, '"'));
  });
});
