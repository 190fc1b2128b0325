import { describe, expect, it } from 'vitest';
import { type BatchReport, MicroBatcher } from '../src/core/batcher.ts';
import { DuctoError } from '../src/core/errors.ts';
import type { EventRow, WriteBatch, WriteResult } from '../src/core/warehouse.ts';
import { fakeWarehouse } from './support/fake-warehouse.ts';

const row = (id: string): EventRow => ({ eventId: id, fields: { x: 1 }, publishTime: null, ingestedAt: 0 });

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

  describe('absorbs what it can before a message goes back to Pub/Sub', () => {
    const unavailable = () => new DuctoError('warehouse_unavailable', 'injected');
    const policy = { attempts: 4, baseDelayMs: 1, maxDelayMs: 2, budgetMs: 5_000 };

    it('retries a transient failure in process, with backoff, and reports the retries', async () => {
      let failures = 2;
      const reports: BatchReport[] = [];
      const w = fakeWarehouse();
      const b = new MicroBatcher(
        async (x) => {
          if (failures-- > 0) throw unavailable();
          return w.write(x);
        },
        { ...opts, retry: policy },
        (r) => reports.push(r),
      );
      expect(await Promise.all([b.submitRow('d', row('a')), b.submitRow('d', row('b'))])).toEqual([
        'stored',
        'stored',
      ]);
      expect(reports).toEqual([expect.objectContaining({ stored: 2, retries: 2, splits: 0 })]);
    });

    it('retries a failed write alone: rows a previous write stored are not written again, and count as stored', async () => {
      const w = fakeWarehouse();
      const reports: BatchReport[] = [];
      let rejectedWrites = 0;
      const b = new MicroBatcher(
        async (x) => {
          if (x.rows.length === 0) {
            // The write of the refused row's rejected row fails once.
            if (rejectedWrites++ === 0) throw unavailable();
            return { inserted: new Set(), refused: [] };
          }
          const r = await w.write(x);
          return { ...r, refused: [{ eventId: 'bad', code: 'warehouse_rejected', detail: 'no' }] };
        },
        { ...opts, retry: policy },
        (r) => reports.push(r),
      );
      expect(await Promise.all(['a', 'bad', 'c'].map((id) => b.submitRow('d', row(id))))).toEqual([
        'stored',
        'rejected',
        'stored',
      ]);
      // The events were written once; only the failed write was tried again.
      expect(w.batches).toHaveLength(1);
      expect(rejectedWrites).toBe(2);
      expect(reports).toEqual([
        expect.objectContaining({ stored: 2, refused: 1, duplicates: 0, retries: 1 }),
      ]);
    });

    it('counts the retries a store made on its own (BigQuery), without retrying the write again', async () => {
      const reports: BatchReport[] = [];
      const w = fakeWarehouse();
      let calls = 0;
      const b = new MicroBatcher(
        async (x) => {
          calls++;
          return { ...(await w.write(x)), retries: 3 };
        },
        { ...opts, retry: null },
        (r) => reports.push(r),
      );
      expect(await b.submitRow('d', row('a'))).toBe('stored');
      expect(calls).toBe(1);
      expect(reports).toEqual([expect.objectContaining({ stored: 1, retries: 3 })]);
    });

    it('gives a write back to Pub/Sub (503) once its attempts are spent, and never retries without a policy', async () => {
      let calls = 0;
      const failing = async (): Promise<WriteResult> => {
        calls++;
        throw unavailable();
      };
      const retried = new MicroBatcher(failing, { ...opts, retry: policy });
      await expect(retried.submitRow('d', row('a'))).rejects.toMatchObject({ code: 'warehouse_unavailable' });
      expect(calls).toBe(4);
      calls = 0;
      const single = new MicroBatcher(failing, { ...opts, retry: null });
      await expect(single.submitRow('d', row('a'))).rejects.toMatchObject({ status: 503 });
      expect(calls).toBe(1);
    });

    it('stops retrying within its time budget, attempts left or not', async () => {
      let calls = 0;
      const b = new MicroBatcher(
        async (): Promise<WriteResult> => {
          calls++;
          await new Promise((r) => setTimeout(r, 20));
          throw unavailable();
        },
        { ...opts, retry: { attempts: 100, baseDelayMs: 1, maxDelayMs: 1, budgetMs: 70 } },
      );
      await expect(b.submitRow('d', row('a'))).rejects.toMatchObject({ code: 'warehouse_unavailable' });
      expect(calls).toBeGreaterThan(1);
      expect(calls).toBeLessThan(6);
    });

    it('splits a batch that fails because of one row: the others land, that one is kept as rejected', async () => {
      const w = fakeWarehouse();
      const reports: BatchReport[] = [];
      const b = new MicroBatcher(
        async (x) => {
          if (x.rows.some((r) => r.eventId === 'poison')) throw new Error('Conversion Error: out of range');
          return w.write(x);
        },
        { ...opts, retry: policy },
        (r) => reports.push(r),
      );
      const ids = ['a', 'b', 'poison', 'c', 'd', 'e'];
      const outcomes = await Promise.all(ids.map((id) => b.submitRow('d', row(id))));
      expect(outcomes).toEqual(['stored', 'stored', 'rejected', 'stored', 'stored', 'stored']);
      expect([...w.stored].sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
      const kept = w.batches.flatMap((x) => x.rejected);
      expect(kept).toEqual([
        expect.objectContaining({
          eventId: 'poison',
          code: 'warehouse_rejected',
          detail: 'Conversion Error: out of range',
        }),
      ]);
      expect(reports).toEqual([expect.objectContaining({ stored: 5, refused: 1, retries: 0 })]);
      expect(reports[0]!.splits).toBeGreaterThanOrEqual(2);
    });

    it('does not retry while closing: what is queued is written once, or goes back to Pub/Sub', async () => {
      let calls = 0;
      const b = new MicroBatcher(
        async (): Promise<WriteResult> => {
          calls++;
          throw unavailable();
        },
        { ...opts, maxWaitMs: 1_000, retry: policy },
      );
      const p = b.submitRow('d', row('a'));
      await b.close();
      await expect(p).rejects.toMatchObject({ code: 'warehouse_unavailable' });
      expect(calls).toBe(1);
    });

    it('starts the next write before it answers the deliveries of the last one', async () => {
      const w = fakeWarehouse();
      const events: string[] = [];
      const b = new MicroBatcher(
        async (x) => {
          events.push(`write ${x.rows.map((r) => r.eventId).join(',')}`);
          await new Promise((r) => setTimeout(r, 5));
          return w.write(x);
        },
        { ...opts, maxWaitMs: 0 },
      );
      const first = b.submitRow('d', row('a')).then(() => events.push('answered a'));
      await new Promise((r) => setTimeout(r, 1));
      const second = b.submitRow('d', row('b')).then(() => events.push('answered b'));
      await Promise.all([first, second]);
      expect(events).toEqual(['write a', 'write b', 'answered a', 'answered b']);
    });
  });
});

void DuctoError;
