import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodePushEnvelope } from '../src/core/delivery.ts';
import { runRole } from '../src/role.ts';
import { freePort } from '../support/proc.ts';

// The container runs one role per service; locally both roles would need one DuckDB writer, so the
// ingest role is checked on its own file and the api role on another.
const dir = mkdtempSync(join(tmpdir(), 'ducto-container-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('container entry (node dist/entry/container.js api|ingest)', () => {
  it('serves only the ingest handler in the ingest role, and only the API in the api role', async () => {
    const env = { DUCTO_DB: join(dir, 'c.duckdb'), LOG_LEVEL: 'silent', DUCTO_DATASETS: 'flights' };
    const ingestPort = await freePort();
    const stopIngest = await runRole(['ingest'], { ...env, PORT: String(ingestPort) });
    try {
      const body = encodePushEnvelope(
        JSON.stringify({
          date: '2001/01/01 06:55',
          delay: 1,
          distance: 2,
          origin: 'LAX',
          destination: 'SFO',
        }),
        'c1',
        { event_id: 'c1', dataset: 'flights' },
      );
      const r = await fetch(`http://127.0.0.1:${ingestPort}/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect(r.status).toBe(204);
      expect((await fetch(`http://127.0.0.1:${ingestPort}/v1/flights`)).status).toBe(404);
    } finally {
      await stopIngest();
    }
    const apiPort = await freePort();
    const stopApi = await runRole(['api'], { ...env, PORT: String(apiPort) });
    try {
      const r = await fetch(`http://127.0.0.1:${apiPort}/v1/flights/c1`);
      expect(r.status).toBe(200);
      expect(((await r.json()) as { data: { delay: number } }).data.delay).toBe(1);
      expect((await fetch(`http://127.0.0.1:${apiPort}/`, { method: 'POST', body: '{}' })).status).toBe(413);
      expect((await fetch(`http://127.0.0.1:${apiPort}/`, { method: 'POST' })).status).toBe(404);
    } finally {
      await stopApi();
    }
  });

  it('refuses an unknown role and a dataset without a schema', async () => {
    await expect(runRole(['admin'], {})).rejects.toMatchObject({ code: 'config_invalid' });
    await expect(
      runRole(['api'], { DUCTO_DATASETS: 'nope', DUCTO_DB: join(dir, 'x.duckdb') }),
    ).rejects.toMatchObject({ code: 'config_invalid' });
  });
});
