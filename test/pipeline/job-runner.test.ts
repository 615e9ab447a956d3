// The runner over a real repo: steps, retries with backoff, cancel/pause of running jobs, takeover
// after a dead node, and a throughput check (printed, not asserted) with no duplicate execution.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../../src/core/errors.ts';
import { JobRunner, type JobEvent } from '../../src/pipeline/job-runner.ts';
import type { JobRepo } from '../../src/pipeline/job-repo.ts';
import type { JobState } from '../../src/pipeline/job.ts';
import { SqlJobRepo } from '../../src/pipeline/sql-job-repo.ts';
import { SqliteSqlDb } from '../../src/pipeline/sqlite-sql-db.ts';
import { done, fail, next, retry, type JobHandler } from '../../src/pipeline/stage.ts';
import { freshPgDb, pgAvailable } from './pg-test-db.ts';

const FILE = 'test/pipeline/job-runner.test.ts';
const dir = mkdtempSync(join(tmpdir(), 'dg-runner-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

async function sqliteRepo(): Promise<SqlJobRepo> {
  const repo = new SqlJobRepo(new SqliteSqlDb(join(dir, `r-${n++}.db`)));
  await repo.migrate();
  return repo;
}

async function until(repo: JobRepo, id: string, states: JobState[], timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!states.includes((await repo.get(id))!.state)) {
    if (Date.now() > end) throw new Error(`job ${id} never reached ${states.join('/')}: ${(await repo.get(id))!.state}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const FAST = { pollMs: 5, leaseMs: 2_000, backoff: { baseMs: 5, maxMs: 50, jitter: 0 } };

describe('JobRunner', () => {
  it('runs multi-step jobs to Success, saving each step', async () => {
    const repo = await sqliteRepo();
    const seen: number[] = [];
    const h: JobHandler = {
      type: 'multi',
      async runStep(ctx) {
        seen.push(ctx.step);
        return ctx.step < 2 ? next({ upTo: ctx.step }, (ctx.step + 1) / 3) : done({ steps: 3, last: ctx.checkpoint });
      },
    };
    const runner = new JobRunner(repo, [h], FAST);
    const j = await repo.enqueue({ type: 'multi' }, Date.now());
    runner.start();
    await until(repo, j.id, ['Success']);
    await runner.stop();
    assert.deepEqual(seen, [0, 1, 2]);
    assert.deepEqual((await repo.get(j.id))!.result, { steps: 3, last: { upTo: 1 } });
    await repo.close();
  });

  it('retries with exponential backoff and fails after maxAttempts', async () => {
    const repo = await sqliteRepo();
    const events: JobEvent[] = [];
    let calls = 0;
    const h: JobHandler = {
      type: 'flaky',
      async runStep() {
        calls++;
        throw new AppError('STORE_UNAVAILABLE', { detail: 'disk away' });
      },
    };
    const runner = new JobRunner(repo, [h], { ...FAST, onEvent: (e) => events.push(e) });
    const j = await repo.enqueue({ type: 'flaky', maxAttempts: 4 }, Date.now());
    runner.start();
    await until(repo, j.id, ['Failure']);
    await runner.stop();
    assert.equal(calls, 4);
    const delays = events.filter((e) => e.kind === 'retrying').map((e) => (e as { afterMs: number }).afterMs);
    assert.deepEqual(delays, [5, 10, 20]);
    const r = (await repo.get(j.id))!;
    assert.equal(r.attempts, 4);
    assert.deepEqual(r.error, { code: 'STORE_UNAVAILABLE', detail: 'disk away' });
    await repo.close();
  });

  it('a permanent error fails at once; a retry result with afterMs waits that long', async () => {
    const repo = await sqliteRepo();
    let tries = 0;
    const handlers: JobHandler[] = [
      { type: 'bad', runStep: async () => fail(new AppError('DEID_PROJECT_INVALID', { detail: 'p' })) },
      { type: 'later', runStep: async () => (++tries === 1 ? retry(30) : done()) },
    ];
    const runner = new JobRunner(repo, handlers, FAST);
    const a = await repo.enqueue({ type: 'bad' }, Date.now());
    const b = await repo.enqueue({ type: 'later' }, Date.now());
    runner.start();
    await until(repo, a.id, ['Failure']);
    await until(repo, b.id, ['Success']);
    await runner.stop();
    assert.equal((await repo.get(a.id))!.attempts, 1);
    assert.equal((await repo.get(b.id))!.attempts, 1);
    await repo.close();
  });

  it('cancel and pause of a running job take effect between steps', async () => {
    const repo = await sqliteRepo();
    let gate!: () => void;
    const h: JobHandler = {
      type: 'slow',
      async runStep(ctx) {
        if (ctx.step === 0) await new Promise<void>((r) => (gate = r));
        return ctx.step < 5 ? next() : done();
      },
    };
    const runner = new JobRunner(repo, [h], FAST);
    const j = await repo.enqueue({ type: 'slow' }, Date.now());
    runner.start();
    await until(repo, j.id, ['Running']);
    while (!gate) await new Promise((r) => setTimeout(r, 5));
    await repo.pause(j.id, Date.now());
    gate();
    await until(repo, j.id, ['Paused']);
    assert.equal((await repo.get(j.id))!.step, 1);
    (gate as unknown) = undefined;
    await repo.resume(j.id, Date.now());
    await until(repo, j.id, ['Success']);
    await runner.stop();
    await repo.close();
  });

  it('stop() hands a multi-step job back between steps; another runner finishes it', async () => {
    const repo = await sqliteRepo();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const steps: string[] = [];
    const mk = (who: string): JobHandler => ({
      type: 'long',
      async runStep(ctx) {
        steps.push(`${who}:${ctx.step}`);
        if (who === 'a' && ctx.step === 0) await gate;
        return ctx.step < 2 ? next() : done();
      },
    });
    const a = new JobRunner(repo, [mk('a')], FAST);
    const j = await repo.enqueue({ type: 'long' }, Date.now());
    a.start();
    while (steps.length === 0) await new Promise((r) => setTimeout(r, 5));
    const stopping = a.stop();
    release();
    await stopping;
    assert.equal((await repo.get(j.id))!.state, 'Pending');
    const b = new JobRunner(repo, [mk('b')], FAST);
    b.start();
    await until(repo, j.id, ['Success']);
    await b.stop();
    assert.deepEqual(steps, ['a:0', 'b:1', 'b:2']);
    await repo.close();
  });

  it('a database failure while recording the outcome: the job runs again after its lease', async () => {
    const real = await sqliteRepo();
    let failOnce = true;
    // A failing fake around the real repo (STYLE: inject failures, no test switches in production code).
    const repo = new Proxy(real, {
      get(target, prop) {
        if (prop === 'complete' && failOnce) {
          return async () => {
            failOnce = false;
            throw new AppError('JOB_DB_UNAVAILABLE', { detail: 'injected' });
          };
        }
        const v = Reflect.get(target, prop) as unknown;
        return typeof v === 'function' ? v.bind(target) : v;
      },
    }) as JobRepo;
    let runs = 0;
    const runner = new JobRunner(repo, [{ type: 'once', runStep: async () => (runs++, done()) }], { ...FAST, leaseMs: 100 });
    const j = await real.enqueue({ type: 'once' }, Date.now());
    runner.start();
    await until(real, j.id, ['Success']);
    await runner.stop();
    assert.equal(runs, 2, 'ran again after the lease expired');
    await real.close();
  });

  it('batch: one claim and one completion transaction for many one-step jobs; a long job behind the first goes back', async () => {
    const real = await sqliteRepo();
    const calls = { claims: 0, groupCompletions: 0, complete: 0, release: 0 };
    // Counts the repo calls the runner makes (each is one transaction).
    const repo = new Proxy(real, {
      get(target, prop) {
        const v = Reflect.get(target, prop) as unknown;
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          if (prop === 'claim' || prop === 'claimMany' || prop === 'completeAndClaim') calls.claims++;
          if ((prop === 'completeMany' || prop === 'completeAndClaim') && (args[0] as unknown[]).length > 0) calls.groupCompletions++;
          if (prop === 'complete' || prop === 'release') calls[prop]++;
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    }) as JobRepo;
    const ran: string[] = [];
    const h: JobHandler = {
      type: 'item',
      async runStep(ctx) {
        ran.push(`${ctx.job.id}:${ctx.step}`);
        const steps = (ctx.job.payload as { steps: number }).steps;
        return ctx.step + 1 < steps ? next() : done({ at: ctx.step });
      },
      batchable: (job) => (job.payload as { steps: number }).steps - job.step <= 1,
    };
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push((await real.enqueue({ type: 'item', payload: { steps: 1 } }, Date.now())).id);
    const long = await real.enqueue({ type: 'item', payload: { steps: 3 } }, Date.now());
    const runner = new JobRunner(repo, [h], { ...FAST, concurrency: 1, batch: 16 });
    runner.start();
    for (const id of [...ids, long.id]) await until(real, id, ['Success']);
    await runner.stop();
    // The ten one-step jobs: claimed together, completed together; the long one was handed back
    // (released) and ran on its own claim with its own completion.
    assert.deepEqual(ran.filter((r) => r !== `${long.id}:0` && r !== `${long.id}:1` && r !== `${long.id}:2`), ids.map((id) => `${id}:0`));
    assert.deepEqual(ran.filter((r) => r.startsWith(`${long.id}:`)), [`${long.id}:0`, `${long.id}:1`, `${long.id}:2`]);
    assert.equal(calls.groupCompletions, 1);
    assert.equal(calls.release, 1);
    assert.equal(calls.complete, 1, 'the long job completes by itself');
    assert.ok(calls.claims <= 4, `claims: ${calls.claims}`);
    for (const id of ids) assert.deepEqual((await real.get(id))!.result, { at: 0 });
    await real.close();
  });

  it('batch: a crash before the group completion runs the batch again after its lease (each job at least once)', async () => {
    const real = await sqliteRepo();
    let failOnce = true;
    const repo = new Proxy(real, {
      get(target, prop) {
        if ((prop === 'completeMany' || prop === 'completeAndClaim') && failOnce) {
          return async (...args: unknown[]) => {
            // Claims with nothing to complete go through; the first group completion fails.
            if ((args[0] as unknown[]).length === 0) return (Reflect.get(target, prop) as (...a: unknown[]) => unknown).apply(target, args);
            failOnce = false;
            throw new AppError('JOB_DB_UNAVAILABLE', { detail: 'injected' });
          };
        }
        const v = Reflect.get(target, prop) as unknown;
        return typeof v === 'function' ? v.bind(target) : v;
      },
    }) as JobRepo;
    const runs = new Map<string, number>();
    const runner = new JobRunner(repo, [{ type: 'once', runStep: async (ctx) => (runs.set(ctx.job.id, (runs.get(ctx.job.id) ?? 0) + 1), done()) }], { ...FAST, leaseMs: 100, concurrency: 1, batch: 8 });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await real.enqueue({ type: 'once' }, Date.now())).id);
    runner.start();
    for (const id of ids) await until(real, id, ['Success']);
    await runner.stop();
    assert.deepEqual(ids.map((id) => runs.get(id)), [2, 2, 2]);
    await real.close();
  });

  it('wake() starts one idle loop per new job, not all of them', async () => {
    const real = await sqliteRepo();
    let claims = 0;
    const repo = new Proxy(real, {
      get(target, prop) {
        const v = Reflect.get(target, prop) as unknown;
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          if (prop === 'claim' || prop === 'claimMany' || prop === 'completeAndClaim') claims++;
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    }) as JobRepo;
    // Polls only every 10 s: claims here come from wake() and from the loops' own follow-ups.
    const ran: string[] = [];
    const runner = new JobRunner(repo, [{ type: 'one', runStep: async (ctx) => (ran.push(ctx.job.id), done()) }], { ...FAST, pollMs: 10_000, concurrency: 4, batch: 8 });
    runner.start();
    await new Promise((r) => setTimeout(r, 100)); // each loop's first claim found nothing
    const before = claims;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const j = await real.enqueue({ type: 'one' }, Date.now());
      ids.push(j.id);
      runner.wake();
      while (!ran.includes(j.id)) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 20)); // time for a needless follow-up claim
    }
    // One claim per job (it took every due job, and nothing new was announced meanwhile). Waking
    // all four loops made 4 claims per job, 3 of them empty.
    assert.equal(claims - before, 5);
    // Each job was completed with the next claim; the last one when the runner stops.
    assert.deepEqual(await Promise.all(ids.slice(0, 4).map(async (id) => (await real.get(id))!.state)), ['Success', 'Success', 'Success', 'Success']);
    await runner.stop();
    assert.equal((await real.get(ids[4]!))!.state, 'Success');
    await real.close();
  });

  it('a job held by a dead node is taken over after its lease and resumes at its step', async () => {
    const repo = await sqliteRepo();
    const j = await repo.enqueue({ type: 'resume', studyKey: 'S' }, Date.now());
    await repo.claim({ workerId: 'dead-node', now: Date.now(), leaseMs: 50, types: ['resume'] });
    await repo.checkpoint(j.id, 'dead-node', 3, null, 0.5, Date.now());
    const steps: number[] = [];
    const runner = new JobRunner(repo, [{ type: 'resume', runStep: async (ctx) => (steps.push(ctx.step), done()) }], FAST);
    runner.start();
    await until(repo, j.id, ['Success']);
    await runner.stop();
    assert.deepEqual(steps, [3]);
    await repo.close();
  });
});

async function throughput(label: string, repo: JobRepo, jobs: number): Promise<void> {
  const runs = new Map<string, number>();
  const h: JobHandler = {
    type: 'noop',
    async runStep(ctx) {
      runs.set(ctx.job.id, (runs.get(ctx.job.id) ?? 0) + 1);
      return done();
    },
  };
  for (let i = 0; i < jobs; i++) await repo.enqueue({ type: 'noop', studyKey: `S${i % 50}` }, Date.now());
  // Four runners with one worker each: four independent claimers, as four nodes would be.
  const runners = [0, 1, 2, 3].map((i) => new JobRunner(repo, [h], { ...FAST, concurrency: 1, workerId: `node${i}` }));
  const t0 = performance.now();
  runners.forEach((r) => r.start());
  // Count in memory: polling the table would compete with the workers being measured.
  while (runs.size < jobs) await new Promise((r) => setTimeout(r, 5));
  const secs = (performance.now() - t0) / 1000;
  while ((await repo.counts()).Success < jobs) await new Promise((r) => setTimeout(r, 20));
  await Promise.all(runners.map((r) => r.stop()));
  console.log(`# throughput ${label}: ${jobs} jobs, 4 workers, ${(jobs / secs).toFixed(0)} jobs/s`);
  assert.equal(runs.size, jobs);
  assert.ok([...runs.values()].every((c) => c === 1), 'every job ran exactly once');
}

describe('throughput (printed, not asserted)', () => {
  it('sqlite', async () => {
    const repo = await sqliteRepo();
    await throughput('sqlite', repo, 1000);
    await repo.close();
  });
  it('postgres', async (t) => {
    if (!(await pgAvailable())) return t.skip('no PostgreSQL');
    const repo = new SqlJobRepo(await freshPgDb(FILE, 'throughput', 8));
    await repo.migrate();
    await throughput('postgres', repo, 1000);
    await repo.close();
  });
});
