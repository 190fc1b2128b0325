import { DuctoError } from './errors.ts';
import type { Warehouse, WriteResult } from './warehouse.ts';

/**
 * Fault injection for tests and benchmarks: wraps the warehouse port so that a share of its calls
 * fail or slow down. Switched on by `DUCTO_FAULTS`, honoured only by `ducto serve --allow-faults`
 * (see config.ts), so a stray variable can never degrade a deployed function.
 *
 *   DUCTO_FAULTS=warehouse.write.error=0.3,warehouse.write.delay_ms=200,warehouse.read.error=1
 */
export interface FaultSpec {
  /** Share of write calls that fail with `warehouse_unavailable` (0–1). */
  writeError: number;
  /** Delay added before every write call, in ms. */
  writeDelayMs: number;
  /** Share of read calls (list, stream, get, stats, freshness, count, rejected, ping) that fail. */
  readError: number;
  /** Delay added before every read call, in ms. */
  readDelayMs: number;
  /**
   * A deliberately broken writer: `write` resolves before the underlying write has happened, so
   * messages are acknowledged before they are durable. Exists to prove that the crash suite
   * catches such a writer; never useful otherwise.
   */
  ackBeforeWrite: boolean;
}

const NO_FAULTS: FaultSpec = Object.freeze({
  writeError: 0,
  writeDelayMs: 0,
  readError: 0,
  readDelayMs: 0,
  ackBeforeWrite: false,
});

type Key = keyof FaultSpec;
const KEYS: Record<string, { key: Key; kind: 'share' | 'ms' | 'flag' }> = {
  'warehouse.write.error': { key: 'writeError', kind: 'share' },
  'warehouse.write.delay_ms': { key: 'writeDelayMs', kind: 'ms' },
  'warehouse.read.error': { key: 'readError', kind: 'share' },
  'warehouse.read.delay_ms': { key: 'readDelayMs', kind: 'ms' },
  'warehouse.write.ack_before_write': { key: 'ackBeforeWrite', kind: 'flag' },
};

/** The keys `DUCTO_FAULTS` accepts, for error messages and docs. */
const FAULT_KEYS = Object.keys(KEYS);

/** Parses `key=value,key=value`; an empty string is no faults. Throws `config_invalid` on anything else. */
export function parseFaults(text: string): FaultSpec {
  const spec: FaultSpec = { ...NO_FAULTS };
  for (const part of text.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    const name = eq < 0 ? item : item.slice(0, eq).trim();
    const raw = eq < 0 ? '' : item.slice(eq + 1).trim();
    const def = KEYS[name];
    if (!def)
      throw new DuctoError(
        'config_invalid',
        `DUCTO_FAULTS: unknown fault "${name}" (known: ${FAULT_KEYS.join(', ')})`,
      );
    const n = Number(raw);
    if (raw === '' || !Number.isFinite(n))
      throw new DuctoError('config_invalid', `DUCTO_FAULTS: ${name} needs a number, got "${raw}"`);
    if (def.kind === 'share' && (n < 0 || n > 1))
      throw new DuctoError('config_invalid', `DUCTO_FAULTS: ${name} is a share from 0 to 1, got ${raw}`);
    if (def.kind === 'ms' && (n < 0 || n > 600_000))
      throw new DuctoError('config_invalid', `DUCTO_FAULTS: ${name} is 0–600000 ms, got ${raw}`);
    if (def.kind === 'flag' && n !== 0 && n !== 1)
      throw new DuctoError('config_invalid', `DUCTO_FAULTS: ${name} is 0 or 1, got ${raw}`);
    (spec as unknown as Record<Key, number | boolean>)[def.key] = def.kind === 'flag' ? n === 1 : n;
  }
  return spec;
}

/** True when the spec changes anything. */
export function hasFaults(spec: FaultSpec): boolean {
  return (
    spec.writeError > 0 ||
    spec.writeDelayMs > 0 ||
    spec.readError > 0 ||
    spec.readDelayMs > 0 ||
    spec.ackBeforeWrite
  );
}

export interface FaultCounts {
  writeErrors: number;
  readErrors: number;
}

/**
 * Holds the current fault spec (tests change it while the stack runs, e.g. to take the warehouse
 * down and bring it back) and wraps warehouses with it.
 */
export class FaultInjector {
  spec: FaultSpec;
  readonly injected: FaultCounts = { writeErrors: 0, readErrors: 0 };
  private readonly background = new Set<Promise<unknown>>();

  constructor(
    spec: FaultSpec | string = NO_FAULTS,
    private readonly random: () => number = Math.random,
  ) {
    this.spec = typeof spec === 'string' ? parseFaults(spec) : spec;
  }

  set(spec: FaultSpec | string): void {
    this.spec = typeof spec === 'string' ? parseFaults(spec) : spec;
  }

  wrap(inner: Warehouse): Warehouse {
    const before = async (kind: 'read' | 'write'): Promise<void> => {
      const s = this.spec;
      const delay = kind === 'write' ? s.writeDelayMs : s.readDelayMs;
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      const share = kind === 'write' ? s.writeError : s.readError;
      if (share > 0 && this.random() < share) {
        if (kind === 'write') this.injected.writeErrors++;
        else this.injected.readErrors++;
        throw new DuctoError('warehouse_unavailable', `injected ${kind} fault (DUCTO_FAULTS)`);
      }
    };
    const read =
      <A extends unknown[], R>(f: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        await before('read');
        return f(...args);
      };
    return {
      kind: inner.kind,
      ...(inner.retriesWrites ? { retriesWrites: true } : {}),
      ensure: (schemas) => inner.ensure(schemas),
      write: async (batch): Promise<WriteResult> => {
        if (this.spec.ackBeforeWrite) {
          const p = before('write')
            .then(() => inner.write(batch))
            .catch(() => {});
          this.background.add(p);
          void p.finally(() => this.background.delete(p));
          return { inserted: null, refused: [] };
        }
        await before('write');
        return inner.write(batch);
      },
      list: read((schema, query) => inner.list(schema, query)),
      stream: (schema, query) => {
        const self = before;
        return {
          async *[Symbol.asyncIterator]() {
            await self('read');
            yield* inner.stream(schema, query);
          },
        };
      },
      get: read((schema, id) => inner.get(schema, id)),
      stats: read((schema, query) => inner.stats(schema, query)),
      freshness: read((schema) => inner.freshness(schema)),
      count: read((schema) => inner.count(schema)),
      rejected: read((schema, limit) => inner.rejected(schema, limit)),
      replayable: read((schema, query) => inner.replayable(schema, query)),
      markReplayed: async (schema, marks) => {
        await before('write');
        return inner.markReplayed(schema, marks);
      },
      ping: read(() => inner.ping()),
      close: async () => {
        await Promise.all(this.background);
        await inner.close();
      },
    };
  }
}
