// Stable-study state in the database (portable SQL over SqlDb). A study (and each series) is a row:
// every new instance bumps `generation` and `last_update`; a row is announced when its generation
// is ahead of `fired_generation` and nothing arrived for the quiet period. Announcing updates the
// row and appends the event in one transaction, so a restart neither loses nor repeats an event,
// and instances after an announcement lead to a new event with the next version.
import type { SqlDb, SqlQuery } from './sql-db.ts';

/** Orthanc's change types for these events (/changes). */
export type StableChangeType = 'StableStudy' | 'StableSeries';

export interface StableEvent {
  readonly seq: number;
  readonly type: StableChangeType;
  /** Study key for StableStudy, series key for StableSeries. */
  readonly resourceKey: string;
  readonly studyKey: string;
  /** 1 for the first announcement, 2 after instances arrived once it had fired, ... */
  readonly version: number;
  readonly firedAt: number;
}

interface EventRow {
  seq: number | string;
  change_type: string;
  resource_key: string;
  study_key: string;
  version: number | string;
  fired_at: number | string;
}

const toEvent = (r: EventRow): StableEvent => ({
  seq: Number(r.seq),
  type: r.change_type as StableChangeType,
  resourceKey: r.resource_key,
  studyKey: r.study_key,
  version: Number(r.version),
  firedAt: Number(r.fired_at),
});

export class StabilityRepo {
  readonly #db: SqlDb;
  readonly #state: string;
  readonly #events: string;
  readonly #cursors: string;
  readonly #tags: string;

  constructor(db: SqlDb) {
    this.#tags = db.table('pipeline_study_tags');
    this.#db = db;
    this.#state = db.table('pipeline_stability');
    this.#events = db.table('pipeline_stable_events');
    this.#cursors = db.table('pipeline_cursors');
  }

  /**
   * A new instance of the study (and series) arrived at `now`. `tags` (e.g. the pipeline that
   * received it) are recorded with the study in the same transaction, for the event's consumers.
   */
  async touch(studyKey: string, seriesKey: string | undefined, now: number, tags: readonly string[] = []): Promise<void> {
    await this.#db.tx((q) => this.touchIn(q, studyKey, seriesKey, now, tags));
  }

  /** touch() inside the caller's transaction (the runtime commits it with the instance's route jobs). */
  async touchIn(q: SqlQuery, studyKey: string, seriesKey: string | undefined, now: number, tags: readonly string[] = []): Promise<void> {
    await this.#touchRow(q, 'study', studyKey, studyKey, now);
    if (seriesKey !== undefined) await this.#touchRow(q, 'series', seriesKey, studyKey, now);
    for (const tag of tags) {
      await q.query(`INSERT INTO ${this.#tags} (study_key, tag) VALUES ($1, $2) ON CONFLICT (study_key, tag) DO NOTHING`, [studyKey, tag]);
    }
  }

  /** The tags recorded with a study's instances (touch). */
  async tags(studyKey: string): Promise<string[]> {
    const rows = await this.#db.query<{ tag: string }>(`SELECT tag FROM ${this.#tags} WHERE study_key = $1 ORDER BY tag`, [studyKey]);
    return rows.map((r) => r.tag);
  }

  #touchRow(q: SqlQuery, level: string, key: string, studyKey: string, now: number): Promise<unknown> {
    // Never move last_update back: a late, out-of-order touch must not shorten the quiet period.
    const later = this.#db.dialect === 'postgres' ? 'GREATEST' : 'MAX';
    return q.query(
      `INSERT INTO ${this.#state} (level, resource_key, study_key, last_update, generation, fired_generation, version)
       VALUES ($1, $2, $3, $4, 1, 0, 0)
       ON CONFLICT (level, resource_key) DO UPDATE SET last_update = ${later}(${this.#state}.last_update, excluded.last_update), generation = ${this.#state}.generation + 1`,
      [level, key, studyKey, now],
    );
  }

  /**
   * Makes the study (and its series) due at once. Returns false when it has nothing unannounced
   * (unknown study, or no instance since its last event).
   */
  async markComplete(studyKey: string): Promise<boolean> {
    const rows = await this.#db.query(
      `UPDATE ${this.#state} SET last_update = 0 WHERE study_key = $1 AND generation > fired_generation RETURNING resource_key`,
      [studyKey],
    );
    return rows.length > 0;
  }

  /**
   * Announces every row quiet since `quietBefore` (series first, then studies); returns the new events.
   * `downtime` (the tracker's previous life ended at `aliveAt`, this one began at `startedAt`): time
   * nobody was watching is not quiet time. A row last touched before `aliveAt` is due once it has been
   * quiet for the period *excluding* the outage; one touched during the outage counts from `startedAt`.
   * Rows marked complete (last_update 0) are due at once either way.
   */
  async fireDue(quietBefore: number, now: number, downtime?: { aliveAt: number; startedAt: number }): Promise<StableEvent[]> {
    const skipLocked = this.#db.dialect === 'postgres' ? 'FOR UPDATE SKIP LOCKED' : '';
    const aliveAt = downtime?.aliveAt ?? now;
    const startedAt = downtime?.startedAt ?? aliveAt;
    const gap = Math.max(0, startedAt - aliveAt);
    return this.#db.tx(async (q) => {
      const due = await q.query<{ level: string; resource_key: string; study_key: string; version: number | string }>(
        `SELECT level, resource_key, study_key, version FROM ${this.#state}
         WHERE generation > fired_generation AND (
           last_update <= 0
           OR (last_update <= $1 AND last_update <= $2)
           ${startedAt <= quietBefore ? 'OR (last_update > $1 AND last_update <= $3)' : ''})
         ORDER BY CASE level WHEN 'series' THEN 0 ELSE 1 END, last_update LIMIT 500 ${skipLocked}`,
        startedAt <= quietBefore ? [aliveAt, quietBefore - gap, quietBefore] : [aliveAt, quietBefore - gap],
      );
      const out: StableEvent[] = [];
      for (const d of due) {
        const version = Number(d.version) + 1;
        await q.query(`UPDATE ${this.#state} SET fired_generation = generation, version = $3 WHERE level = $1 AND resource_key = $2`, [d.level, d.resource_key, version]);
        const type: StableChangeType = d.level === 'series' ? 'StableSeries' : 'StableStudy';
        const ev = await q.query<EventRow>(
          `INSERT INTO ${this.#events} (change_type, resource_key, study_key, version, fired_at) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
          [type, d.resource_key, d.study_key, version, now],
        );
        out.push(toEvent(ev[0] as EventRow));
      }
      return out;
    });
  }

  /** Events after `seq`, oldest first (for /changes and the job dispatcher). */
  async events(afterSeq = 0, limit = 100): Promise<StableEvent[]> {
    const rows = await this.#db.query<EventRow>(`SELECT * FROM ${this.#events} WHERE seq > $1 ORDER BY seq LIMIT ${Math.max(1, Math.min(limit, 10_000))}`, [afterSeq]);
    return rows.map(toEvent);
  }

  /** Studies waiting for their quiet period to end. */
  async pendingStudies(): Promise<{ studyKey: string; lastUpdate: number }[]> {
    const rows = await this.#db.query<{ resource_key: string; last_update: number | string }>(
      `SELECT resource_key, last_update FROM ${this.#state} WHERE level = 'study' AND generation > fired_generation ORDER BY last_update`,
    );
    return rows.map((r) => ({ studyKey: r.resource_key, lastUpdate: Number(r.last_update) }));
  }

  async cursor(name: string): Promise<number> {
    const rows = await this.#db.query<{ seq: number | string }>(`SELECT seq FROM ${this.#cursors} WHERE name = $1`, [name]);
    return rows[0] ? Number(rows[0].seq) : 0;
  }

  async setCursor(name: string, seq: number): Promise<void> {
    await this.#db.query(
      `INSERT INTO ${this.#cursors} (name, seq) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq`,
      [name, seq],
    );
  }
}
