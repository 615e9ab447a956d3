// JobRepo in portable SQL over the SqlDb port; the same code runs on SQLite and PostgreSQL.
import { AppError } from '../core/errors.ts';
import { DEFAULT_MAX_ATTEMPTS, JOB_STATES, type EnqueueSpec, type JobError, type JobRecord, type JobState } from './job.ts';
import type { ClaimOptions, JobRepo, ListOptions } from './job-repo.ts';
import { parseJobId, toJobRecord, toJson, type JobRow } from './job-row.ts';
import { migratePipeline } from './pipeline-schema.ts';
import type { SqlDb, SqlQuery } from './sql-db.ts';

// Candidates examined per claim: a few, so a study held by another worker does not starve the claim.
const CLAIM_BATCH = 8;
const COMPLETE_SET = `state = 'Success', progress = 1, result = $4, completed_at = $3`;
// Lease sweeps (Running jobs of dead workers -> Pending) run at most this often per repo.
const SWEEP_EVERY_MS = 1_000;

export class SqlJobRepo implements JobRepo {
  readonly #db: SqlDb;
  readonly #jobs: string;
  readonly #locks: string;
  #lastSweep = -Infinity;

  constructor(db: SqlDb) {
    this.#db = db;
    this.#jobs = db.table('pipeline_jobs');
    this.#locks = db.table('pipeline_study_locks');
  }

  migrate(): Promise<void> {
    return migratePipeline(this.#db);
  }

  enqueue(spec: EnqueueSpec, now: number): Promise<JobRecord> {
    return this.#db.tx((q) => this.enqueueIn(q, spec, now));
  }

  /** enqueue() inside the caller's transaction (one commit for an instance's touch and route jobs). */
  async enqueueIn(q: SqlQuery, spec: EnqueueSpec, now: number): Promise<JobRecord> {
    const params = [
      spec.type,
      toJson(spec.payload),
      spec.priority ?? 0,
      spec.studyKey ?? null,
      spec.dedupeKey ?? null,
      spec.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      spec.runAfter ?? now,
      now,
    ];
    const rows = await q.query<JobRow>(
      `INSERT INTO ${this.#jobs} (type, payload, priority, study_key, dedupe_key, state, max_attempts, run_after, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, 'Pending', $6, $7, $8, $8) ON CONFLICT (dedupe_key) DO NOTHING RETURNING *`,
      params,
    );
    if (rows[0]) return toJobRecord(rows[0]);
    const existing = await q.query<JobRow>(`SELECT * FROM ${this.#jobs} WHERE dedupe_key = $1`, [spec.dedupeKey]);
    return toJobRecord(existing[0] as JobRow);
  }

  async claim(opts: ClaimOptions): Promise<JobRecord | undefined> {
    return (await this.claimMany({ ...opts, limit: 1 }))[0];
  }

  async claimMany(opts: ClaimOptions & { readonly limit: number }): Promise<JobRecord[]> {
    return (await this.completeAndClaim([], opts)).jobs;
  }

  async completeAndClaim(done: readonly { readonly id: string; readonly result: unknown }[], opts: ClaimOptions & { readonly limit: number }): Promise<{ completed: string[]; jobs: JobRecord[] }> {
    const claiming = opts.types.length > 0 && opts.limit >= 1;
    if (claiming && opts.now - this.#lastSweep >= SWEEP_EVERY_MS) {
      this.#lastSweep = opts.now;
      await this.#db.tx((q) => this.#sweepExpired(q, opts.now));
    }
    if (done.length === 0 && !claiming) return { completed: [], jobs: [] };
    const typeList = opts.types.map((_, i) => `$${i + 2}`).join(', ');
    // PostgreSQL: a claim alone is one statement, no transaction needed.
    if (done.length === 0 && this.#db.dialect === 'postgres') return { completed: [], jobs: await this.#claimPg(this.#db, opts, typeList) };
    return this.#db.tx(async (q) => {
      const completed: string[] = [];
      for (const d of done) if (await this.#finishIn(q, d.id, opts.workerId, opts.now, COMPLETE_SET, [toJson(d.result)])) completed.push(d.id);
      if (!claiming) return { completed, jobs: [] };
      const jobs = this.#db.dialect === 'postgres' ? await this.#claimPg(q, opts, typeList) : await this.#claimSqlite(q, opts, typeList);
      return { completed, jobs };
    });
  }

  // SQLite: BEGIN IMMEDIATE already excludes every other writer, no row locks needed.
  async #claimSqlite(q: SqlQuery, opts: ClaimOptions & { readonly limit: number }, typeList: string): Promise<JobRecord[]> {
    const candidates = await q.query<JobRow>(
      `SELECT j.* FROM ${this.#jobs} j
       WHERE j.state IN ('Pending', 'Retry') AND j.run_after <= $1 AND j.type IN (${typeList})
         AND (j.study_key IS NULL OR NOT EXISTS (SELECT 1 FROM ${this.#locks} l WHERE l.study_key = j.study_key))
       ORDER BY j.priority DESC, j.id LIMIT ${opts.limit + CLAIM_BATCH - 1}`,
      [opts.now, ...opts.types],
    );
    const out: JobRecord[] = [];
    for (const c of candidates) {
      if (c.study_key !== null) {
        // The primary key is the lock: a second candidate of a study taken here (or by another
        // claim) inserts nothing and is skipped.
        const got = await q.query(`INSERT INTO ${this.#locks} (study_key, job_id) VALUES ($1, $2) ON CONFLICT (study_key) DO NOTHING RETURNING job_id`, [c.study_key, c.id]);
        if (got.length === 0) continue;
      }
      const rows = await q.query<JobRow>(
        `UPDATE ${this.#jobs} SET state = 'Running', locked_by = $2, lease_until = $3, request = NULL, updated_at = $4 WHERE id = $1 RETURNING *`,
        [c.id, opts.workerId, opts.now + opts.leaseMs, opts.now],
      );
      out.push(toJobRecord(rows[0] as JobRow));
      if (out.length >= opts.limit) break;
    }
    return out;
  }

  // PostgreSQL: one round trip per claim. The candidate rows are locked (SKIP LOCKED), their study
  // locks inserted and the jobs updated in one statement. A candidate whose study lock conflicts
  // (another claim took a job of that study meanwhile, or an earlier candidate of this one) is not
  // updated; if that leaves nothing, the next attempt's NOT EXISTS skips the studies now locked.
  async #claimPg(q: SqlQuery, opts: ClaimOptions & { readonly limit: number }, typeList: string): Promise<JobRecord[]> {
    const n = opts.types.length;
    const sql = `
      WITH c0 AS (
        SELECT j.id, j.study_key, j.priority FROM ${this.#jobs} j
        WHERE j.state IN ('Pending', 'Retry') AND j.run_after <= $1 AND j.type IN (${typeList})
          AND (j.study_key IS NULL OR NOT EXISTS (SELECT 1 FROM ${this.#locks} l WHERE l.study_key = j.study_key))
        ORDER BY j.priority DESC, j.id LIMIT ${opts.limit + CLAIM_BATCH - 1} FOR UPDATE OF j SKIP LOCKED
      ), c AS (
        -- The first candidate of each study (FOR UPDATE rules out a window function in c0 itself);
        -- a job without a study is its own partition ('#' keeps it apart from any study key).
        SELECT id, study_key, priority FROM (
          SELECT c0.*, ROW_NUMBER() OVER (PARTITION BY COALESCE(study_key, '#' || id::text) ORDER BY priority DESC, id) AS nth FROM c0
        ) x WHERE nth = 1 ORDER BY priority DESC, id LIMIT ${opts.limit}
      ), l AS (
        INSERT INTO ${this.#locks} (study_key, job_id) SELECT study_key, id FROM c WHERE study_key IS NOT NULL
        ON CONFLICT (study_key) DO NOTHING RETURNING job_id
      )
      UPDATE ${this.#jobs} u SET state = 'Running', locked_by = $${n + 2}, lease_until = $${n + 3}, request = NULL, updated_at = $1
      FROM c WHERE u.id = c.id AND (c.study_key IS NULL OR c.id IN (SELECT job_id FROM l))
      RETURNING u.*`;
    const params = [opts.now, ...opts.types, opts.workerId, opts.now + opts.leaseMs];
    for (let attempt = 0; attempt < CLAIM_BATCH; attempt++) {
      const rows = await q.query<JobRow>(sql, params);
      if (rows.length > 0) return rows.map(toJobRecord).sort((a, b) => b.priority - a.priority || Number(a.id) - Number(b.id));
      // Empty: no candidate at all, or lost study races. Only the latter is worth another look.
      const any = await q.query(
        `SELECT 1 FROM ${this.#jobs} j WHERE j.state IN ('Pending', 'Retry') AND j.run_after <= $1 AND j.type IN (${typeList})
           AND (j.study_key IS NULL OR NOT EXISTS (SELECT 1 FROM ${this.#locks} l WHERE l.study_key = j.study_key)) LIMIT 1`,
        [opts.now, ...opts.types],
      );
      if (any.length === 0) return [];
    }
    return [];
  }

  // A Running job whose lease expired belongs to a dead (or stalled) worker: it runs again from
  // its saved step. A pending operator request is honoured on the way.
  async #sweepExpired(q: SqlQuery, now: number): Promise<void> {
    const expired = await q.query<{ id: number | string }>(
      `UPDATE ${this.#jobs} SET
         state = CASE request WHEN 'cancel' THEN 'Failure' WHEN 'pause' THEN 'Paused' ELSE 'Pending' END,
         error = CASE request WHEN 'cancel' THEN $2 ELSE error END,
         completed_at = CASE request WHEN 'cancel' THEN $1 ELSE completed_at END,
         locked_by = NULL, lease_until = NULL, request = NULL, updated_at = $1
       WHERE state = 'Running' AND lease_until < $1 RETURNING id`,
      [now, toJson({ code: 'JOB_CANCELED' } satisfies JobError)],
    );
    for (const r of expired) await q.query(`DELETE FROM ${this.#locks} WHERE job_id = $1`, [r.id]);
  }

  async heartbeat(id: string, workerId: string, leaseUntil: number, progress?: number): Promise<{ owned: boolean; request: JobRecord['request'] }> {
    const rows = await this.#db.query<{ request: string | null }>(
      `UPDATE ${this.#jobs} SET lease_until = $3, progress = COALESCE($4, progress) WHERE id = $1 AND locked_by = $2 AND state = 'Running' RETURNING request`,
      [Number(id), workerId, leaseUntil, progress ?? null],
    );
    const r = rows[0];
    return r ? { owned: true, request: (r.request as JobRecord['request']) ?? null } : { owned: false, request: null };
  }

  async checkpoint(id: string, workerId: string, step: number, checkpoint: unknown, progress: number, now: number): Promise<boolean> {
    const rows = await this.#db.query(
      `UPDATE ${this.#jobs} SET step = $3, checkpoint = $4, progress = $5, updated_at = $6 WHERE id = $1 AND locked_by = $2 AND state = 'Running' RETURNING id`,
      [Number(id), workerId, step, toJson(checkpoint), progress, now],
    );
    return rows.length > 0;
  }

  complete(id: string, workerId: string, result: unknown, now: number): Promise<boolean> {
    return this.#finish(id, workerId, now, COMPLETE_SET, [toJson(result)]);
  }

  completeMany(done: readonly { readonly id: string; readonly result: unknown }[], workerId: string, now: number): Promise<string[]> {
    if (done.length === 0) return Promise.resolve([]);
    return this.#db.tx(async (q) => {
      const ours: string[] = [];
      for (const d of done) if (await this.#finishIn(q, d.id, workerId, now, COMPLETE_SET, [toJson(d.result)])) ours.push(d.id);
      return ours;
    });
  }

  retry(id: string, workerId: string, runAfter: number, error: JobError, now: number): Promise<boolean> {
    return this.#finish(id, workerId, now, `state = 'Retry', attempts = attempts + 1, run_after = $4, error = $5`, [runAfter, toJson(error)]);
  }

  fail(id: string, workerId: string, error: JobError, now: number): Promise<boolean> {
    return this.#finish(id, workerId, now, `state = 'Failure', attempts = attempts + 1, error = $4, completed_at = $3`, [toJson(error)]);
  }

  release(id: string, workerId: string, now: number): Promise<boolean> {
    return this.#finish(id, workerId, now, `state = 'Pending'`, []);
  }

  parkPaused(id: string, workerId: string, now: number): Promise<boolean> {
    return this.#finish(id, workerId, now, `state = 'Paused'`, []);
  }

  // Ends a Running job's lease (fenced by the worker id) and drops its study lock in one transaction.
  #finish(id: string, workerId: string, now: number, set: string, extra: readonly unknown[]): Promise<boolean> {
    if (parseJobId(id) === undefined) return Promise.resolve(false);
    // PostgreSQL: #finishIn is one statement, so one implicit transaction without BEGIN/COMMIT.
    if (this.#db.dialect === 'postgres') return this.#finishIn(this.#db, id, workerId, now, set, extra);
    return this.#db.tx((q) => this.#finishIn(q, id, workerId, now, set, extra));
  }

  async #finishIn(q: SqlQuery, id: string, workerId: string, now: number, set: string, extra: readonly unknown[]): Promise<boolean> {
    const n = parseJobId(id);
    if (n === undefined) return false;
    const update = `UPDATE ${this.#jobs} SET ${set}, locked_by = NULL, lease_until = NULL, request = NULL, updated_at = $3
         WHERE id = $1 AND locked_by = $2 AND state = 'Running' RETURNING id`;
    if (this.#db.dialect === 'postgres') {
      // The job update and the unlock in one statement.
      const rows = await q.query(`WITH u AS (${update}), d AS (DELETE FROM ${this.#locks} WHERE job_id IN (SELECT id FROM u)) SELECT id FROM u`, [n, workerId, now, ...extra]);
      return rows.length > 0;
    }
    const rows = await q.query(update, [n, workerId, now, ...extra]);
    if (rows.length === 0) return false;
    await q.query(`DELETE FROM ${this.#locks} WHERE job_id = $1`, [n]);
    return true;
  }

  cancel(id: string, now: number): Promise<JobRecord | undefined> {
    return this.#operate(id, now, 'cancel', (job) => {
      if (job.state === 'Running') return { set: `request = 'cancel'`, params: [] };
      if (job.state === 'Pending' || job.state === 'Retry' || job.state === 'Paused') {
        return { set: `state = 'Failure', error = $3, completed_at = $2`, params: [toJson({ code: 'JOB_CANCELED' } satisfies JobError)] };
      }
      return undefined;
    });
  }

  pause(id: string, now: number): Promise<JobRecord | undefined> {
    return this.#operate(id, now, 'pause', (job) => {
      if (job.state === 'Running') return { set: `request = 'pause'`, params: [] };
      if (job.state === 'Pending' || job.state === 'Retry') return { set: `state = 'Paused'`, params: [] };
      return job.state === 'Paused' ? { set: `state = 'Paused'`, params: [] } : undefined;
    });
  }

  resume(id: string, now: number): Promise<JobRecord | undefined> {
    return this.#operate(id, now, 'resume', (job) => {
      if (job.state === 'Paused') return { set: `state = 'Pending', run_after = $2`, params: [] };
      // A pause the runner has not honoured yet is simply withdrawn.
      if (job.state === 'Running' && job.request === 'pause') return { set: `request = NULL`, params: [] };
      return undefined;
    });
  }

  resubmit(id: string, now: number): Promise<JobRecord | undefined> {
    return this.#operate(id, now, 'resubmit', (job) =>
      job.state === 'Failure'
        ? { set: `state = 'Pending', attempts = 0, step = 0, checkpoint = NULL, progress = 0, error = NULL, result = NULL, completed_at = NULL, run_after = $2`, params: [] }
        : undefined,
    );
  }

  #operate(
    id: string,
    now: number,
    action: string,
    decide: (job: JobRecord) => { set: string; params: unknown[] } | undefined,
  ): Promise<JobRecord | undefined> {
    const n = parseJobId(id);
    if (n === undefined) return Promise.resolve(undefined);
    const lock = this.#db.dialect === 'postgres' ? 'FOR UPDATE' : '';
    return this.#db.tx(async (q) => {
      const rows = await q.query<JobRow>(`SELECT * FROM ${this.#jobs} WHERE id = $1 ${lock}`, [n]);
      if (!rows[0]) return undefined;
      const job = toJobRecord(rows[0]);
      const change = decide(job);
      if (!change) throw new AppError('JOB_STATE', { detail: `cannot ${action} job ${id} in state ${job.state}` });
      const updated = await q.query<JobRow>(`UPDATE ${this.#jobs} SET ${change.set}, updated_at = $2 WHERE id = $1 RETURNING *`, [n, now, ...change.params]);
      return toJobRecord(updated[0] as JobRow);
    });
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const n = parseJobId(id);
    if (n === undefined) return undefined;
    const rows = await this.#db.query<JobRow>(`SELECT * FROM ${this.#jobs} WHERE id = $1`, [n]);
    return rows[0] ? toJobRecord(rows[0]) : undefined;
  }

  async list(opts: ListOptions = {}): Promise<JobRecord[]> {
    const params: unknown[] = [];
    const where: string[] = [];
    if (opts.states && opts.states.length > 0) {
      where.push(`state IN (${opts.states.map((s) => (params.push(s), `$${params.length}`)).join(', ')})`);
    }
    if (opts.types && opts.types.length > 0) {
      where.push(`type IN (${opts.types.map((s) => (params.push(s), `$${params.length}`)).join(', ')})`);
    }
    if (opts.studyKey !== undefined) where.push(`study_key = $${params.push(opts.studyKey)}`);
    const after = opts.after === undefined ? undefined : parseJobId(opts.after);
    if (after !== undefined) where.push(`id > $${params.push(after)}`);
    const limit = Math.min(Math.max(1, opts.limit ?? 100), 10_000);
    const sql = `SELECT * FROM ${this.#jobs} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ${limit}`;
    return (await this.#db.query<JobRow>(sql, params)).map(toJobRecord);
  }

  async counts(): Promise<Record<JobState, number>> {
    const out = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
    for (const r of await this.#db.query<{ state: JobState; n: number | string }>(`SELECT state, COUNT(*) AS n FROM ${this.#jobs} GROUP BY state`)) {
      out[r.state] = Number(r.n);
    }
    return out;
  }

  async purgeSucceeded(before: number): Promise<number> {
    // Failures stay: they are the dead-letter list until an operator resubmits or deletes them.
    // Dedupe keys of purged jobs are forgotten, so purge only well after events can repeat.
    const rows = await this.#db.query(`DELETE FROM ${this.#jobs} WHERE state = 'Success' AND completed_at < $1 RETURNING id`, [before]);
    return rows.length;
  }

  close(): Promise<void> {
    return this.#db.close();
  }
}
