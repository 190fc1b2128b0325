/** An in-memory warehouse port for the batcher tests. */
import type { WriteBatch, WriteResult } from '../../src/core/warehouse.ts';

/** An in-memory warehouse whose writes can be held open, to observe what the batcher does meanwhile. */
export function fakeWarehouse() {
  const stored = new Set<string>();
  const batches: WriteBatch[] = [];
  let gate: Promise<void> = Promise.resolve();
  let open: () => void = () => {};
  let fail: unknown = null;
  return {
    stored,
    batches,
    hold() {
      gate = new Promise<void>((r) => {
        open = r;
      });
    },
    release: () => open(),
    failWith(e: unknown) {
      fail = e;
    },
    async write(b: WriteBatch): Promise<WriteResult> {
      batches.push(b);
      await gate;
      if (fail) throw fail;
      const inserted = new Set<string>();
      for (const r of b.rows) {
        if (stored.has(r.eventId)) continue;
        inserted.add(r.eventId);
        stored.add(r.eventId);
      }
      return { inserted, refused: [] };
    },
  };
}
