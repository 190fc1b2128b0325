import { PubSub } from '@google-cloud/pubsub';
import type { Stack } from '../../src/cli/serve.ts';
import { DuctoError } from '../../src/core/errors.ts';
import type { WriteBatch } from '../../src/core/warehouse.ts';
import { emulatorClientConfig } from '../../src/pubsub/emulator.ts';
import { freePort } from '../../support/proc.ts';
import type { stackFactory } from './stacks.ts';

/**
 * A local stack delivering through the Pub/Sub emulator by streaming pull, with the writer's own
 * retries off (a failed write reaches Pub/Sub as a nack) and a 1 s redelivery backoff; its writes fail
 * while `failWrite` says so. Returns the stack and a client of its emulator.
 */
export async function pullStack(
  factory: ReturnType<typeof stackFactory>,
  name: string,
  failWrite: (batch: WriteBatch) => boolean,
  env: Record<string, string> = {},
): Promise<{ stack: Stack; pubsub: PubSub }> {
  const stack = await factory.start(
    name,
    {
      DUCTO_PUBSUB: 'emulator',
      DUCTO_DELIVERY: 'pull',
      PUBSUB_EMULATOR_HOST: `127.0.0.1:${await freePort()}`,
      DUCTO_WRITE_RETRY_ATTEMPTS: '1',
      ...env,
    },
    {
      minBackoffSeconds: 1,
      wrapWarehouse: (w) => ({
        ...w,
        kind: w.kind,
        write: async (batch) => {
          if (failWrite(batch)) throw new DuctoError('warehouse_unavailable', 'injected failure');
          return w.write(batch);
        },
      }),
    },
  );
  return { stack, pubsub: new PubSub(emulatorClientConfig(stack.emulatorHost!, stack.config.project)) };
}

/** Event ids the API returns for a dataset (NDJSON, every row), with repetitions. */
export async function apiEventIds(apiUrl: string, dataset = 'flights'): Promise<string[]> {
  const res = await fetch(`${apiUrl}/v1/${dataset}?fields=event_id`, {
    headers: { accept: 'application/x-ndjson' },
  });
  if (res.status !== 200) throw new Error(`GET /v1/${dataset} answered ${res.status}`);
  return (await res.text())
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { event_id: string }).event_id);
}
