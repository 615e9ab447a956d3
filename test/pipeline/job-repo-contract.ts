// One contract for every JobRepo (SQLite, PostgreSQL): test/pipeline/sqlite-job-repo.test.ts and
// pg-job-repo.test.ts run it. Times come from the test (a manual clock), never from waiting.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isAppError } from '../../src/core/errors.ts';
import type { JobRepo } from '../../src/pipeline/job-repo.ts';

export type RepoFactory = (name: string) => Promise<JobRepo>;

const T0 = 1_700_000_000_000;
const claimOpts = (workerId: string, now = T0, leaseMs = 10_000) => ({ workerId, now, leaseMs, types: ['a', 'b'] });

export function jobRepoContract(kind: string, make: RepoFactory): void {
  describe(`JobRepo contract (${kind})`, () => {
    const withRepo = (name: string, fn: (repo: JobRepo) => Promise<void>) =>
      it(name, async () => {
        const repo = await make(name);
        try {
          await fn(repo);
        } finally {
          await repo.close();
        }
      });

    withRepo('enqueue stores a Pending job with defaults', async (repo) => {
      const j = await repo.enqueue({ type: 'a', payload: { x: 1 }, studyKey: 's1' }, T0);
      assert.equal(j.state, 'Pending');
      assert.deepEqual(j.payload, { x: 1 });
      assert.equal(j.priority, 0);
      assert.equal(j.attempts, 0);
      assert.equal(j.studyKey, 's1');
      assert.deepEqual(await repo.get(j.id), j);
      assert.equal(await repo.get('999999'), undefined);
      assert.equal(await repo.get('not-an-id'), undefined);
    });

    withRepo('a dedupe key yields one job however often it is enqueued', async (repo) => {
      const a = await repo.enqueue({ type: 'a', dedupeKey: 'stable:s1:1' }, T0);
      const b = await repo.enqueue({ type: 'a', dedupeKey: 'stable:s1:1', payload: 'other' }, T0 + 5);
      assert.equal(b.id, a.id);
      assert.equal(b.payload, undefined);
      const c = await repo.enqueue({ type: 'a', dedupeKey: 'stable:s1:2' }, T0);
      assert.notEqual(c.id, a.id);
      assert.equal((await repo.list()).length, 2);
    });

    withRepo('claim takes the highest priority first, then the oldest, only known types', async (repo) => {
      const low = await repo.enqueue({ type: 'a', priority: 0 }, T0);
      const high = await repo.enqueue({ type: 'b', priority: 5 }, T0);
      await repo.enqueue({ type: 'other', priority: 9 }, T0);
      const low2 = await repo.enqueue({ type: 'a', priority: 0 }, T0);
      const order = [];
      for (let i = 0; i < 4; i++) order.push((await repo.claim(claimOpts('w')))?.id);
      assert.deepEqual(order, [high.id, low.id, low2.id, undefined]);
      const running = await repo.get(high.id);
      assert.equal(running?.state, 'Running');
      assert.equal(running?.lockedBy, 'w');
      assert.equal(running?.leaseUntil, T0 + 10_000);
    });

    withRepo('a job is not claimed before runAfter', async (repo) => {
      const j = await repo.enqueue({ type: 'a', runAfter: T0 + 1000 }, T0);
      assert.equal(await repo.claim(claimOpts('w', T0 + 999)), undefined);
      assert.equal((await repo.claim(claimOpts('w', T0 + 1000)))?.id, j.id);
    });

    withRepo('two jobs of one study never run at once; other studies are not held up', async (repo) => {
      const a1 = await repo.enqueue({ type: 'a', studyKey: 'S1' }, T0);
      const a2 = await repo.enqueue({ type: 'b', studyKey: 'S1' }, T0);
      const b1 = await repo.enqueue({ type: 'a', studyKey: 'S2' }, T0);
      assert.equal((await repo.claim(claimOpts('w1')))?.id, a1.id);
      assert.equal((await repo.claim(claimOpts('w2')))?.id, b1.id, 'S1 is locked, S2 is not');
      assert.equal(await repo.claim(claimOpts('w3')), undefined);
      assert.equal(await repo.complete(a1.id, 'w1', { ok: 1 }, T0 + 1), true);
      assert.equal((await repo.claim(claimOpts('w3')))?.id, a2.id);
    });

    withRepo('claimMany takes up to `limit` due jobs in claim order, one per study; completeMany is fenced per job', async (repo) => {
      const s1a = await repo.enqueue({ type: 'a', studyKey: 'S1' }, T0);
      const s1b = await repo.enqueue({ type: 'a', studyKey: 'S1' }, T0);
      const free1 = await repo.enqueue({ type: 'b' }, T0);
      const high = await repo.enqueue({ type: 'a', priority: 5 }, T0);
      const later = await repo.enqueue({ type: 'a', runAfter: T0 + 1000 }, T0);
      const free2 = await repo.enqueue({ type: 'a' }, T0);
      const free3 = await repo.enqueue({ type: 'b' }, T0);
      const got = await repo.claimMany({ ...claimOpts('w1'), limit: 4 });
      // S1's second job waits for the study lock; `later` is not due.
      assert.deepEqual(got.map((j) => j.id), [high.id, s1a.id, free1.id, free2.id]);
      for (const j of got) {
        assert.equal(j.state, 'Running');
        assert.equal(j.lockedBy, 'w1');
        assert.equal(j.leaseUntil, T0 + 10_000);
      }
      const rest = await repo.claimMany({ ...claimOpts('w2'), limit: 10 });
      assert.deepEqual(rest.map((j) => j.id), [free3.id], 'S1 is still locked by w1');
      assert.deepEqual(await repo.claimMany({ ...claimOpts('w2'), limit: 0 }), []);
      // w2's job is not w1's to complete; the others are, in one call.
      const ours = await repo.completeMany([...got, free3].map((j) => ({ id: j.id, result: { n: j.id } })), 'w1', T0 + 5);
      assert.deepEqual(ours.sort(), got.map((j) => j.id).sort());
      for (const j of got) {
        const now = await repo.get(j.id);
        assert.equal(now?.state, 'Success');
        assert.deepEqual(now?.result, { n: j.id });
        assert.equal(now?.completedAt, T0 + 5);
      }
      assert.equal((await repo.get(free3.id))?.state, 'Running');
      assert.deepEqual(await repo.completeMany([], 'w1', T0 + 6), []);
      // Completing released S1: its second job is claimable now.
      assert.deepEqual((await repo.claimMany({ ...claimOpts('w3', T0 + 1000), limit: 5 })).map((j) => j.id), [s1b.id, later.id]);
    });

    withRepo('completeAndClaim completes (fenced) and claims in one call; the completion frees the study for the claim', async (repo) => {
      const a = await repo.enqueue({ type: 'a', studyKey: 'S' }, T0);
      const b = await repo.enqueue({ type: 'a', studyKey: 'S' }, T0);
      const other = await repo.enqueue({ type: 'b' }, T0);
      assert.deepEqual((await repo.claimMany({ ...claimOpts('w1'), limit: 1 })).map((j) => j.id), [a.id]);
      assert.deepEqual((await repo.claimMany({ ...claimOpts('w2'), limit: 1 })).map((j) => j.id), [other.id]);
      const r = await repo.completeAndClaim([{ id: a.id, result: 'ok' }, { id: other.id, result: 'not mine' }], { ...claimOpts('w1', T0 + 1), limit: 5 });
      assert.deepEqual(r.completed, [a.id]);
      assert.deepEqual(r.jobs.map((j) => j.id), [b.id]);
      assert.equal((await repo.get(a.id))?.state, 'Success');
      assert.equal((await repo.get(other.id))?.state, 'Running', "w2's job is untouched");
      assert.deepEqual(await repo.completeAndClaim([], { ...claimOpts('w1', T0 + 2), limit: 5 }), { completed: [], jobs: [] });
    });

    withRepo('complete, retry and fail record state, attempts and error, fenced by worker id', async (repo) => {
      const j = await repo.enqueue({ type: 'a', studyKey: 'S' }, T0);
      await repo.claim(claimOpts('w1'));
      assert.equal(await repo.complete(j.id, 'intruder', null, T0), false);
      assert.equal(await repo.retry(j.id, 'w1', T0 + 500, { code: 'STORE_UNAVAILABLE' }, T0), true);
      let r = await repo.get(j.id);
      assert.equal(r?.state, 'Retry');
      assert.equal(r?.attempts, 1);
      assert.deepEqual(r?.error, { code: 'STORE_UNAVAILABLE' });
      assert.equal(await repo.claim(claimOpts('w1', T0 + 499)), undefined);
      assert.equal((await repo.claim(claimOpts('w1', T0 + 500)))?.id, j.id, 'the retry lock on the study was released');
      assert.equal(await repo.fail(j.id, 'w1', { code: 'DEID_PROJECT_INVALID', detail: 'x' }, T0 + 600), true);
      r = await repo.get(j.id);
      assert.equal(r?.state, 'Failure');
      assert.equal(r?.attempts, 2);
      assert.equal(r?.completedAt, T0 + 600);
      const k = await repo.enqueue({ type: 'a', studyKey: 'S' }, T0);
      assert.equal((await repo.claim(claimOpts('w2', T0 + 700)))?.id, k.id, 'the failure released the study');
      assert.equal(await repo.complete(k.id, 'w2', { n: 3 }, T0 + 800), true);
      r = await repo.get(k.id);
      assert.equal(r?.state, 'Success');
      assert.equal(r?.progress, 1);
      assert.deepEqual(r?.result, { n: 3 });
    });

    withRepo('checkpoint saves the next step; heartbeat extends the lease and reports requests', async (repo) => {
      const j = await repo.enqueue({ type: 'a' }, T0);
      await repo.claim(claimOpts('w'));
      assert.equal(await repo.checkpoint(j.id, 'w', 1, { done: ['x'] }, 0.5, T0 + 1), true);
      assert.deepEqual(await repo.heartbeat(j.id, 'w', T0 + 20_000, 0.6), { owned: true, request: null });
      const r = await repo.get(j.id);
      assert.equal(r?.step, 1);
      assert.deepEqual(r?.checkpoint, { done: ['x'] });
      assert.equal(r?.progress, 0.6);
      assert.equal(r?.leaseUntil, T0 + 20_000);
      await repo.pause(j.id, T0 + 2);
      assert.deepEqual(await repo.heartbeat(j.id, 'w', T0 + 20_000), { owned: true, request: 'pause' });
      assert.deepEqual(await repo.heartbeat(j.id, 'other', T0 + 20_000), { owned: false, request: null });
    });

    withRepo('an expired lease sends the job back; the old worker cannot finish it (restart of a dead node)', async (repo) => {
      const j = await repo.enqueue({ type: 'a', studyKey: 'S' }, T0);
      await repo.claim(claimOpts('dead', T0, 1000));
      await repo.checkpoint(j.id, 'dead', 2, { k: 1 }, 0.4, T0 + 10);
      assert.equal(await repo.claim(claimOpts('alive', T0 + 500, 1000)), undefined);
      const again = await repo.claim(claimOpts('alive', T0 + 5000, 1000));
      assert.equal(again?.id, j.id);
      assert.equal(again?.lockedBy, 'alive');
      assert.equal(again?.step, 2, 'resumes at the saved step');
      assert.deepEqual(again?.checkpoint, { k: 1 });
      assert.equal(await repo.complete(j.id, 'dead', null, T0 + 5001), false);
      assert.equal(await repo.complete(j.id, 'alive', null, T0 + 5002), true);
    });

    withRepo('cancel, pause, resume, resubmit follow Orthanc', async (repo) => {
      const p = await repo.enqueue({ type: 'a' }, T0);
      assert.equal((await repo.pause(p.id, T0))?.state, 'Paused');
      assert.equal(await repo.claim(claimOpts('w')), undefined, 'a paused job is not claimed');
      assert.equal((await repo.resume(p.id, T0))?.state, 'Pending');
      await assert.rejects(repo.resume(p.id, T0), (e) => isAppError(e, 'JOB_STATE'));
      await assert.rejects(repo.resubmit(p.id, T0), (e) => isAppError(e, 'JOB_STATE'));
      const c = await repo.cancel(p.id, T0);
      assert.equal(c?.state, 'Failure');
      assert.deepEqual(c?.error, { code: 'JOB_CANCELED' });
      const again = await repo.resubmit(p.id, T0 + 1);
      assert.equal(again?.state, 'Pending');
      assert.equal(again?.attempts, 0);
      assert.equal(again?.error, null);
      const running = await repo.claim(claimOpts('w', T0 + 2));
      assert.equal(running?.id, p.id);
      assert.equal((await repo.cancel(p.id, T0 + 3))?.request, 'cancel', 'a running job gets a request');
      assert.equal((await repo.get(p.id))?.state, 'Running');
      assert.equal(await repo.fail(p.id, 'w', { code: 'JOB_CANCELED' }, T0 + 4), true);
      await assert.rejects(repo.pause(p.id, T0), (e) => isAppError(e, 'JOB_STATE'));
      assert.equal(await repo.cancel('424242', T0), undefined);
    });

    withRepo('parkPaused honours a pause request and frees the study', async (repo) => {
      const j = await repo.enqueue({ type: 'a', studyKey: 'S' }, T0);
      const k = await repo.enqueue({ type: 'a', studyKey: 'S' }, T0);
      await repo.claim(claimOpts('w'));
      await repo.pause(j.id, T0 + 1);
      assert.equal(await repo.parkPaused(j.id, 'w', T0 + 2), true);
      assert.equal((await repo.get(j.id))?.state, 'Paused');
      assert.equal((await repo.claim(claimOpts('w', T0 + 3)))?.id, k.id);
    });

    withRepo('release hands a running job back at its step without counting an attempt', async (repo) => {
      const j = await repo.enqueue({ type: 'a', studyKey: 'S' }, T0);
      await repo.claim(claimOpts('w'));
      await repo.checkpoint(j.id, 'w', 2, null, 0.5, T0);
      assert.equal(await repo.release(j.id, 'other', T0), false);
      assert.equal(await repo.release(j.id, 'w', T0), true);
      const again = await repo.claim(claimOpts('w2', T0 + 1));
      assert.equal(again?.id, j.id);
      assert.equal(again?.step, 2);
      assert.equal(again?.attempts, 0);
    });

    withRepo('purgeSucceeded removes old successes only', async (repo) => {
      const a = await repo.enqueue({ type: 'a' }, T0);
      const b = await repo.enqueue({ type: 'a' }, T0);
      await repo.claim(claimOpts('w'));
      await repo.complete(a.id, 'w', null, T0 + 10);
      await repo.claim(claimOpts('w'));
      await repo.fail(b.id, 'w', { code: 'JOB_STEP_FAILED' }, T0 + 10);
      assert.equal(await repo.purgeSucceeded(T0 + 10), 0);
      assert.equal(await repo.purgeSucceeded(T0 + 11), 1);
      assert.equal(await repo.get(a.id), undefined);
      assert.equal((await repo.get(b.id))?.state, 'Failure');
    });

    withRepo('list and counts', async (repo) => {
      for (let i = 0; i < 5; i++) await repo.enqueue({ type: 'a' }, T0);
      const j = await repo.claim(claimOpts('w'));
      await repo.complete(j!.id, 'w', null, T0);
      const counts = await repo.counts();
      assert.equal(counts.Pending, 4);
      assert.equal(counts.Success, 1);
      assert.equal(counts.Running, 0);
      assert.equal((await repo.list({ states: ['Success'] })).length, 1);
      const first2 = await repo.list({ limit: 2 });
      assert.equal(first2.length, 2);
      assert.equal((await repo.list({ after: first2[1]!.id })).length, 3);
    });

    withRepo('concurrent claims never hand out one job twice nor two jobs of one study', async (repo) => {
      const studies = 6;
      for (let i = 0; i < 60; i++) await repo.enqueue({ type: 'a', studyKey: `S${i % studies}` }, T0);
      const seen = new Set<string>();
      const held = new Map<string, string>();
      let overlap = 0;
      const worker = async (w: string) => {
        for (;;) {
          const j = await repo.claim(claimOpts(w));
          if (!j) {
            if ((await repo.counts()).Pending === 0) return;
            await new Promise((r) => setTimeout(r, 2));
            continue;
          }
          assert.equal(seen.has(j.id), false, `job ${j.id} claimed twice`);
          seen.add(j.id);
          if (held.has(j.studyKey!)) overlap++;
          held.set(j.studyKey!, j.id);
          await new Promise((r) => setTimeout(r, 1));
          held.delete(j.studyKey!);
          assert.equal(await repo.complete(j.id, w, null, T0), true);
        }
      };
      await Promise.all(['w1', 'w2', 'w3', 'w4'].map(worker));
      assert.equal(seen.size, 60);
      assert.equal(overlap, 0);
    });
  });
}
