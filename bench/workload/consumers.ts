/**
 * The API's consumers: `options.consumers` loops picking weighted operations for the whole run, each
 * result recorded into the window current when it finishes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { httpRequest, TransportError } from '../../support/http.ts';
import { REQUEST_TIMEOUT_MS } from './constants.ts';
import type { Run } from './context.ts';
import { OpError } from './http.ts';
import type { OpContext, Operation } from './operations.ts';

export interface Consumers {
  /** Ends every loop after its current operation and waits for them. */
  stop(): Promise<void>;
}

function weighted(operations: Operation[]): () => Operation {
  const total = operations.reduce((a, o) => a + o.weight, 0);
  return () => {
    let r = Math.random() * total;
    for (const o of operations) {
      r -= o.weight;
      if (r < 0) return o;
    }
    return operations[operations.length - 1]!;
  };
}

export function startConsumers(run: Run): Consumers {
  const pick = weighted(run.operations);
  let stopping = false;
  const loops: Array<Promise<void>> = [];
  for (let c = 0; c < run.options.consumers; c++) {
    const ctx: OpContext = {
      get: (path, headers = {}) =>
        httpRequest(
          new URL(path, run.stack.apiUrl),
          { headers, timeoutMs: REQUEST_TIMEOUT_MS },
          run.apiAgent,
        ),
      flights: run.flights,
      timeRange: run.timeRange,
      published: () => run.published.pick(),
      state: {},
    };
    loops.push(
      (async () => {
        while (!stopping && !run.stop.signal.aborted) {
          const op = pick();
          const started = performance.now();
          let error: string | undefined;
          try {
            if ((await op.run(ctx)) === false) {
              await sleep(5);
              continue;
            }
          } catch (e) {
            error =
              e instanceof OpError || e instanceof TransportError
                ? e.key
                : `mismatch ${(e as Error).message ?? String(e)}`;
            ctx.state = {};
          }
          run.window.op(op.name).record((performance.now() - started) * 1000, error);
          // A failing target answers fast: do not spin on it.
          if (error !== undefined) await sleep(20);
        }
      })(),
    );
  }
  return {
    stop: async () => {
      stopping = true;
      await Promise.allSettled(loops);
    },
  };
}
