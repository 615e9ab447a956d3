// Group commit in StorePseudonymizer: one store transaction for requests that wait together.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { PatientKey, PatientPseudonym, PseudonymPolicy } from '../../src/deid/pseudonymizer.ts';
import type { BatchRequest, PseudonymStore } from '../../src/pseudonyms/pseudonym-store.ts';
import { StorePseudonymizer } from '../../src/pseudonyms/store-pseudonymizer.ts';

/** Only resolveBatch is used by the pseudonymizer; it records the size of every transaction. */
function countingStore(): { store: PseudonymStore; batches: number[] } {
  const batches: number[] = [];
  const store = {
    async resolveBatch(_project: string, requests: readonly BatchRequest[]) {
      batches.push(requests.length);
      return requests.map((r) => ({
        pseudonym: { patientId: `P-${r.key.patientId}`, patientName: 'P^', dateShiftDays: -3 } satisfies PatientPseudonym,
        uids: new Map(r.uids.map((u) => [u, `2.25.${u.replace(/\./g, '')}`])),
      }));
    },
  } as unknown as PseudonymStore;
  return { store, batches };
}

const POLICY = {} as PseudonymPolicy;
const key = (id: string): PatientKey => ({ patientId: id, issuer: '' });

describe('StorePseudonymizer group commit', () => {
  it('without a window, requests of one turn of the event loop share one transaction', async () => {
    const { store, batches } = countingStore();
    const p = new StorePseudonymizer(store, 'p', POLICY);
    const all = await Promise.all([1, 2, 3].map((i) => p.resolve({ patient: key('A'), uids: [`1.2.${i}`] })));
    assert.deepEqual(batches, [3]);
    assert.equal(all[2].uids.get('1.2.3'), '2.25.123');
  });

  it('with a window, requests from later turns join the same transaction', async () => {
    const { store, batches } = countingStore();
    const p = new StorePseudonymizer(store, 'p', POLICY, { batchWindowMs: 60_000, batchTarget: 3 });
    const first = p.resolve({ patient: key('A'), uids: ['1.3.1'] });
    await new Promise((r) => setImmediate(r));
    const second = p.resolve({ patient: key('B'), uids: ['1.3.2'] });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(batches, [], 'nothing committed before the target or the window');
    // The third request reaches the target: committed without waiting for the (one-minute) window.
    const third = p.resolve({ patient: key('A'), uids: ['1.3.3'] });
    const results = await Promise.all([first, second, third]);
    assert.deepEqual(batches, [3]);
    assert.equal(results[1].patient.patientId, 'P-B');
  });

  it('a lone request is committed when the window closes', async () => {
    const { store, batches } = countingStore();
    const p = new StorePseudonymizer(store, 'p', POLICY, { batchWindowMs: 1, batchTarget: 16 });
    const r = await p.resolve({ patient: key('C'), uids: ['1.4.1'] });
    assert.deepEqual(batches, [1]);
    assert.equal(r.uids.get('1.4.1'), '2.25.141');
  });

  it('a dynamic target is re-read on poke(), and requests being committed are counted', async () => {
    const counting = countingStore();
    const { batches } = counting;
    // The store answers when the test opens the gate, as a commit waits for its WAL flush.
    let open = (): void => undefined;
    const gate = new Promise<void>((r) => (open = r));
    const store = {
      async resolveBatch(...args: Parameters<PseudonymStore['resolveBatch']>) {
        await gate;
        return counting.store.resolveBatch(...args);
      },
    } as unknown as PseudonymStore;
    let target = 3;
    const p = new StorePseudonymizer(store, 'p', POLICY, { batchWindowMs: 60_000, batchTarget: () => target });
    const first = p.resolve({ patient: key('A'), uids: ['1.5.1'] });
    const second = p.resolve({ patient: key('A'), uids: ['1.5.2'] });
    await new Promise((r) => setImmediate(r));
    p.poke();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(batches, [], 'two of three: still waiting');
    // The third asker went elsewhere (its output write): the target drops and poke() commits the two.
    target = 2;
    p.poke();
    assert.equal(p.committing, 0, 'committed at the next turn, not inside poke()');
    await new Promise((r) => setImmediate(r));
    assert.equal(p.committing, 2);
    open();
    await Promise.all([first, second]);
    assert.equal(p.committing, 0);
    assert.deepEqual(batches, [2]);
  });

  it('early answers carry the flush still to come, and a cache hit carries the latest one', async () => {
    const { store: inner, batches } = countingStore();
    const flushes: (() => void)[] = [];
    const store = {
      resolveBatch: inner.resolveBatch.bind(inner),
      async resolveBatchEarly(...args: Parameters<PseudonymStore['resolveBatch']>) {
        const results = await inner.resolveBatch(...args);
        return { results, durable: new Promise<void>((r) => flushes.push(r)) };
      },
    } as unknown as PseudonymStore;
    const p = new StorePseudonymizer(store, 'p', POLICY, { earlyAnswers: true });
    const first = await p.resolve({ patient: key('A'), uids: ['1.6.1'] });
    assert.equal(first.uids.get('1.6.1'), '2.25.161', 'answered before the flush');
    assert.ok(first.durable);
    const second = await p.resolve({ patient: key('A'), uids: ['1.6.2'] });
    // All known now: no transaction, and the answer waits for the latest flush (the second batch's).
    const cached = await p.resolve({ patient: key('A'), uids: ['1.6.1', '1.6.2'] });
    assert.deepEqual(batches, [1, 1]);
    assert.equal(cached.durable, second.durable);
    let settled = false;
    void cached.durable?.then(() => (settled = true));
    flushes[0]();
    await new Promise((r) => setImmediate(r));
    assert.equal(settled, false, 'the first flush does not cover the second commit');
    flushes[1]();
    await cached.durable;
    // Without the option the store's ordinary path is used and answers are durable as given.
    const plain = new StorePseudonymizer(store, 'p', POLICY);
    assert.equal((await plain.resolve({ patient: key('B'), uids: ['1.6.3'] })).durable, undefined);
  });
});
