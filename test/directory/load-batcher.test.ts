import { describe, expect, it } from 'vitest';
import type { Row } from '../../src/db/database.js';
import { LoadBatcher } from '../../src/directory/load-batcher.js';

/** A query the test answers by hand, so every interleaving is chosen, not hoped for. */
interface Pending {
  readonly keys: readonly string[];
  answer(): void;
  fail(error: Error): void;
}

function harness(options: { maxInFlight: number; maxBatch: number }) {
  const sent: Pending[] = [];
  const rowFor = (key: string): Row => ({ key, seenBy: sent.length });
  const batcher = new LoadBatcher(
    (key) =>
      new Promise((resolve, reject) => {
        sent.push({ keys: [key], answer: () => resolve(rowFor(key)), fail: reject });
      }),
    (keys) =>
      new Promise((resolve, reject) => {
        sent.push({ keys, answer: () => resolve(new Map(keys.map((k) => [k, rowFor(k)]))), fail: reject });
      }),
    options,
  );
  return { batcher, sent };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('LoadBatcher', () => {
  it('sends a key alone at once while fewer queries than the limit are in flight', async () => {
    const { batcher, sent } = harness({ maxInFlight: 2, maxBatch: 10 });
    const a = batcher.load('a');
    const b = batcher.load('b');
    expect(sent.map((q) => q.keys)).toEqual([['a'], ['b']]);
    sent[0]?.answer();
    sent[1]?.answer();
    expect((await a)?.key).toBe('a');
    expect((await b)?.key).toBe('b');
  });

  it('holds keys beyond the limit and sends them together, deduplicated, when a query returns', async () => {
    const { batcher, sent } = harness({ maxInFlight: 1, maxBatch: 10 });
    const first = batcher.load('a');
    const waiting = ['b', 'c', 'b', 'd'].map((k) => batcher.load(k));
    expect(sent.map((q) => q.keys)).toEqual([['a']]);
    sent[0]?.answer();
    await first;
    await tick();
    expect(sent.map((q) => q.keys)).toEqual([['a'], ['b', 'c', 'd']]);
    sent[1]?.answer();
    expect((await Promise.all(waiting)).map((row) => row?.key)).toEqual(['b', 'c', 'b', 'd']);
  });

  it('never answers a key with a query that started before the key was asked for', async () => {
    const { batcher, sent } = harness({ maxInFlight: 1, maxBatch: 10 });
    const early = batcher.load('a');
    // Asked while the first query for the same key is in flight: it must get a query of its own.
    const late = batcher.load('a');
    sent[0]?.answer();
    expect((await early)?.seenBy).toBe(1);
    await tick();
    expect(sent).toHaveLength(2);
    sent[1]?.answer();
    expect((await late)?.seenBy).toBe(2);
  });

  it('splits the waiting keys into batches of at most maxBatch', async () => {
    const { batcher, sent } = harness({ maxInFlight: 1, maxBatch: 2 });
    const all = [batcher.load('a'), ...['b', 'c', 'd', 'e', 'f'].map((k) => batcher.load(k))];
    for (let i = 0; i < 4; i++) {
      sent[i]?.answer();
      await tick();
    }
    expect(sent.map((q) => q.keys)).toEqual([['a'], ['b', 'c'], ['d', 'e'], ['f']]);
    expect((await Promise.all(all)).map((row) => row?.key)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('rejects every key of a batch whose query fails, and goes on with the next ones', async () => {
    const { batcher, sent } = harness({ maxInFlight: 1, maxBatch: 2 });
    const first = batcher.load('a');
    const failed = [batcher.load('b'), batcher.load('c')].map((p) => p.catch((e: Error) => e.message));
    const after = batcher.load('d');
    sent[0]?.answer();
    await first;
    await tick();
    sent[1]?.fail(new Error('connection lost'));
    expect(await Promise.all(failed)).toEqual(['connection lost', 'connection lost']);
    await tick();
    expect(sent[2]?.keys).toEqual(['d']);
    sent[2]?.answer();
    expect((await after)?.key).toBe('d');
  });

  it('answers undefined for a key the batch query returned no row for', async () => {
    const sent: (() => void)[] = [];
    const batcher = new LoadBatcher(
      (key) =>
        new Promise((resolve) => {
          sent.push(() => resolve({ key }));
        }),
      () =>
        new Promise((resolve) => {
          sent.push(() => resolve(new Map()));
        }),
      { maxInFlight: 1, maxBatch: 10 },
    );
    const first = batcher.load('a');
    const missing = batcher.load('zzz');
    sent[0]?.();
    await first;
    await tick();
    sent[1]?.();
    expect(await missing).toBeUndefined();
  });
});
