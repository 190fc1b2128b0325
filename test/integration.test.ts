import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCanary } from '../src/canary.ts';
import { type Stack, startStack } from '../src/cli/serve.ts';
import { readConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { findEmulatorLauncher } from '../src/pubsub/emulator.ts';
import { freePort } from './helpers/process.ts';

// The challenge's Part 3.1: the API exposes what was published, exactly once and unchanged. The
// check itself (src/canary.ts) is what the deploy pipeline runs against a deployed gateway.
const dir = mkdtempSync(join(tmpdir(), 'ducto-it-'));
const stacks: Stack[] = [];
afterAll(async () => {
  for (const s of stacks) await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function stack(mode: 'direct' | 'emulator', env: Record<string, string> = {}): Promise<Stack> {
  const config = readConfig({
    PORT: '0',
    INGEST_PORT: '0',
    DUCTO_DB: join(dir, `${mode}.duckdb`),
    DUCTO_PUBSUB: mode,
    DUCTO_SEED: '0',
    ...env,
  });
  const s = await startStack(config, createLogger('silent'));
  stacks.push(s);
  return s;
}

describe('integration: publish → ingest → warehouse → API (direct push)', () => {
  it('returns exactly the published canary events with identical content', async () => {
    const s = await stack('direct');
    const report = await runCanary({
      apiUrl: s.apiUrl,
      via: { endpoint: `${s.ingestUrl}/` },
      count: 6,
      deadlineMs: 20_000,
    });
    expect(report).toMatchObject({ ok: true, published: 6, found: 6, missing: [], mismatched: [] });
  });

  it('fails when the API does not return the canary events in time', async () => {
    const s = stacks[0]!;
    // Publishing to a dataset the API serves under another name: nothing comes back.
    const report = await runCanary({
      apiUrl: s.apiUrl,
      via: { endpoint: `${s.ingestUrl}/?dataset=nope` },
      count: 2,
      deadlineMs: 1_500,
    });
    expect(report.ok).toBe(false);
    expect(report.missing).toHaveLength(2);
  });
});

const launcher = findEmulatorLauncher();
if (!launcher)
  console.warn(
    'SKIP integration through the Pub/Sub emulator: gcloud and its pubsub-emulator component are not installed',
  );

describe.skipIf(!launcher)('integration: publish → Pub/Sub emulator → push → ingest → API', () => {
  it('returns exactly the published canary events with identical content', async () => {
    const port = await freePort();
    const s = await stack('emulator', { PUBSUB_EMULATOR_HOST: `127.0.0.1:${port}` });
    expect(s.mode).toBe('emulator');
    const report = await runCanary({
      apiUrl: s.apiUrl,
      via: { topic: `projects/${s.config.project}/topics/flights`, emulatorHost: s.emulatorHost! },
      count: 6,
      deadlineMs: 30_000,
    });
    expect(report).toMatchObject({ ok: true, published: 6, found: 6 });
  }, 120_000);
});
