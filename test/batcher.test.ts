import { describe, expect, it } from 'vitest';
import { MicroBatcher } from '../src/core/batcher.ts';
import { DuctoError } from '../src/core/errors.ts';
import type { EventRow, WriteBatch, WriteResult } from '../src/core/warehouse.ts';

const row = (id: string): EventRow => ({ eventId: id, fields: { x: 1 }, publishTime: null, ingestedAt: 0 });

/** An in-memory warehouse whose writes can be held open, to observe what the batcher does meanwhile. */
function fakeWarehouse() {
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

const opts = { maxRows: 10, maxWaitMs: 5, maxPending: 50, concurrency: 1 };

describe('MicroBatcher', () => {
  it('groups concurrent submissions into bounded batches', async () => {
    const w = fakeWarehouse();
    const b = new MicroBatcher((x) => w.write(x), opts);
    const outcomes = await Promise.all(Array.from({ length: 35 }, (_, i) => b.submitRow('d', row(`e${i}`))));
    expect(outcomes.every((o) => o === 'stored')).toBe(true);
    expect(w.batches.length).toBeGreaterThanOrEqual(4);
    expect(Math.max(...w.batches.map((x) => x.rows.length))).toBeLessThanOrEqual(10);
    expect(w.stored.size).toBe(35);
  });

  it('resolves a submission only after its batch is written', async () => {
    const w = fakeWarehouse();
    w.hold();
    const b = new MicroBatcher((x) => w.write(x), opts);
    let settled = false;
    const p = b.submitRow('d', row('a')).then((o) => {
      settled = true;
      return o;
    });
    await new Promise((r) => setTimeout(r, 30));
    expect(w.batches.length).toBe(1);
    expect(settled).toBe(false);
    w.release();
    expect(await p).toBe('stored');
  });

  it('reports duplicates across and within batches', async () => {
    const w = fakeWarehouse();
    const b = new MicroBatcher((x) => w.write(x), opts);
    const [a1, a2] = await Promise.all([b.submitRow('d', row('a')), b.submitRow('d', row('a'))]);
    expect([a1, a2].sort()).toEqual(['duplicate', 'stored']);
    expect(await b.submitRow('d', row('a'))).toBe('duplicate');
  });

  it('refuses with overloaded (429) past maxPending instead of queueing without bound', async () => {
    const w = fakeWarehouse();
    w.hold();
    const b = new MicroBatcher((x) => w.write(x), { ...opts, maxPending: 20 });
    const accepted = Array.from({ length: 20 }, (_, i) => b.submitRow('d', row(`e${i}`)));
    const refused = b.submitRow('d', row('late'));
    await expect(refused).rejects.toMatchObject({ code: 'overloaded', status: 429 });
    expect(b.depth).toBe(20);
    w.release();
    await Promise.all(accepted);
    expect(b.depth).toBe(0);
    expect(await b.submitRow('d', row('late'))).toBe('stored');
  });

  it('fails every submission of a failed write with a retryable error', async () => {
    const w = fakeWarehouse();
    w.failWith(new Error('disk on fire'));
    const b = new MicroBatcher((x) => w.write(x), opts);
    const results = await Promise.allSettled([b.submitRow('d', row('a')), b.submitRow('d', row('b'))]);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      const e = (r as PromiseRejectedResult).reason as DuctoError;
      expect(e.code).toBe('warehouse_unavailable');
      expect(e.status).toBe(503);
    }
    expect(b.depth).toBe(0);
  });

  it('splits a flush by dataset and keeps rejected rows with their dataset', async () => {
    const w = fakeWarehouse();
    const b = new MicroBatcher((x) => w.write(x), opts);
    const rej = {
      messageId: 'm',
      eventId: null,
      code: 'not_json' as const,
      detail: 'x',
      payload: null,
      attributes: {},
      publishTime: null,
      receivedAt: 0,
    };
    const out = await Promise.all([
      b.submitRow('a', row('1')),
      b.submitRow('b', row('2')),
      b.submitRejected('a', rej),
    ]);
    expect(out).toEqual(['stored', 'stored', 'rejected']);
    const a = w.batches.find((x) => x.dataset === 'a')!;
    expect(a.rows.map((r) => r.eventId)).toEqual(['1']);
    expect(a.rejected).toHaveLength(1);
  });

  it('flushes on close and refuses new rows afterwards', async () => {
    const w = fakeWarehouse();
    const b = new MicroBatcher((x) => w.write(x), { ...opts, maxWaitMs: 10_000 });
    const p = b.submitRow('d', row('a'));
    await b.close();
    expect(await p).toBe('stored');
    await expect(b.submitRow('d', row('b'))).rejects.toMatchObject({ code: 'shutting_down' });
  });

  it('turns rows the warehouse refuses into rejected rows and keeps the rest', async () => {
    const batches: WriteBatch[] = [];
    const b = new MicroBatcher(async (x) => {
      batches.push(x);
      return {
        inserted: new Set(x.rows.map((r) => r.eventId).filter((id) => id !== 'bad')),
        refused: x.rows.some((r) => r.eventId === 'bad')
          ? [{ eventId: 'bad', code: 'warehouse_rejected' as const, detail: 'no' }]
          : [],
      };
    }, opts);
    const out = await Promise.all([b.submitRow('d', row('ok')), b.submitRow('d', row('bad'))]);
    expect(out).toEqual(['stored', 'rejected']);
    expect(batches[1]!.rejected[0]).toMatchObject({ eventId: 'bad', code: 'warehouse_rejected' });
  });
});

void DuctoError;
