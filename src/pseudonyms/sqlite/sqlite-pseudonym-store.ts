// SQLite key database (the embedded default, <dataDir>/keys.sqlite). better-sqlite3 is synchronous, so
// callers in one process are already serialized; BEGIN IMMEDIATE makes get-or-create atomic across
// processes and worker threads sharing the file (the write lock is taken before the lookup).
import Database from 'better-sqlite3';
import { AppError } from '../../core/errors.ts';
import { SAFETY_AUTOCHECKPOINT_PAGES, SqliteCheckpointer } from '../../core/sqlite-checkpointer.ts';
import { WalSync } from '../../core/sqlite-wal-sync.ts';
import type { PatientKey, PatientPseudonym, PseudonymPolicy } from '../../deid/pseudonymizer.ts';
import { drawDateShift, newUid, patternIsRandom, renderPattern } from '../generate.ts';
import type { BatchRequest, BatchResult, EarlyBatchResult, ImportResult, ImportRow, PatientRecord, PseudonymStore } from '../pseudonym-store.ts';
import { SQLITE_MIGRATIONS } from './migrations.ts';

interface PatientRow {
  id: number;
  original_id: string;
  original_issuer: string;
  pseudo_id: string;
  pseudo_name: string;
  date_shift_days: number;
  created_at: string;
}

const MAX_RANDOM_ATTEMPTS = 20;
const MAX_SEQ_SKIPS = 100_000;

function toRecord(project: string, r: PatientRow): PatientRecord {
  return {
    project,
    original: { patientId: r.original_id, issuer: r.original_issuer },
    pseudonym: { patientId: r.pseudo_id, patientName: r.pseudo_name, dateShiftDays: r.date_shift_days },
    createdAt: r.created_at,
  };
}

function isUniqueViolation(e: unknown): boolean {
  return e instanceof Error && (e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE';
}

export class SqlitePseudonymStore implements PseudonymStore {
  readonly #db: Database.Database;
  readonly #stmts = new Map<string, Database.Statement>();
  /** Project name -> row id, so a write transaction per object does not look it up (two statements) again. */
  readonly #projectIds = new Map<string, number>();
  /** File databases: every write resolves after its WAL frames are flushed (see WalSync). */
  readonly #walSync: WalSync | undefined;
  #checkpointer: SqliteCheckpointer | undefined;

  /**
   * `file` is a path or ':memory:'. `checkpointer: false` (one-shot CLI commands): no checkpoint
   * thread. Its worker boots an isolate and loads the SQLite addon (measured ~50 ms of CPU, and closing
   * waited up to 115 ms for it to have started), while such a run adds a few dozen WAL pages that
   * SQLite checkpoints when the connection closes.
   */
  constructor(file: string, opts: { checkpointer?: boolean } = {}) {
    try {
      this.#db = new Database(file);
      this.#db.pragma('journal_mode = WAL');
      // A mapping reported durable survives power loss, not only a process crash: each write waits for
      // a WalSync of its commit. SQLite's own FULL would fsync inside COMMIT on the event loop,
      // stalling every association of a de-identifying intake once per instance (its new SOP Instance UID).
      const memory = file === ':memory:' || file === '';
      this.#db.pragma(`synchronous = ${memory ? 'FULL' : 'NORMAL'}`);
      this.#walSync = memory
        ? undefined
        : new WalSync(`${file}-wal`, (cause) => new AppError('KEYS_UNAVAILABLE', { detail: `cannot sync the SQLite key database: ${(cause as { code?: string }).code ?? 'error'}`, cause }));
      this.#db.pragma('foreign_keys = ON');
      this.#db.pragma('busy_timeout = 10000');
      if (!memory && opts.checkpointer !== false) {
        // Checkpoints off the event loop, as for the index (core/sqlite-checkpointer.ts): a gateway
        // writes new mappings for nearly every instance, so the automatic one ran every few hundred.
        this.#db.pragma(`wal_autocheckpoint = ${SAFETY_AUTOCHECKPOINT_PAGES}`);
        this.#checkpointer = new SqliteCheckpointer(file);
      }
    } catch (cause) {
      throw new AppError('KEYS_UNAVAILABLE', { detail: 'cannot open SQLite key database', cause });
    }
  }

  async migrate(): Promise<void> {
    this.#run(() => {
      this.#db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
      this.#db
        .transaction(() => {
          const row = this.#sql('SELECT max(version) AS v FROM schema_version').get() as { v: number | null };
          for (let v = row.v ?? 0; v < SQLITE_MIGRATIONS.length; v++) {
            this.#db.exec(SQLITE_MIGRATIONS[v]);
            this.#sql('INSERT INTO schema_version (version) VALUES (?)').run(v + 1);
          }
        })
        .immediate();
    });
  }

  async getOrCreatePatient(project: string, key: PatientKey, policy: PseudonymPolicy): Promise<PatientPseudonym> {
    return (await this.#write(() => this.#db.transaction(() => this.#patientTx(project, key, policy)).immediate())).pseudonym;
  }

  async mapUids(project: string, key: PatientKey, uids: readonly string[], policy: PseudonymPolicy): Promise<Map<string, string>> {
    return this.#write(() =>
      this.#db
        .transaction(() => {
          const patient = this.#patientTx(project, key, policy);
          return this.#uidsTx(patient.projectId, patient.rowId, uids, policy);
        })
        .immediate(),
    );
  }

  /** Patient and UIDs in one transaction: the store-pseudonymizer's batched path. */
  async resolveBatch(project: string, requests: readonly BatchRequest[], policy: PseudonymPolicy): Promise<BatchResult[]> {
    return this.#write(() => this.#batchTx(project, requests, policy));
  }

  /** resolveBatch, answered after the commit; `durable` is the WAL flush that covers it. */
  async resolveBatchEarly(project: string, requests: readonly BatchRequest[], policy: PseudonymPolicy): Promise<EarlyBatchResult> {
    const results = this.#run(() => this.#batchTx(project, requests, policy));
    const durable = this.#walSync?.sync() ?? Promise.resolve();
    // Marked handled here: a caller that gave up on the batch must not turn a failed flush into an
    // unhandled rejection; every caller that awaits `durable` still sees the error.
    durable.catch(() => undefined);
    return { results, durable };
  }

  #batchTx(project: string, requests: readonly BatchRequest[], policy: PseudonymPolicy): BatchResult[] {
    return this.#db
      .transaction(() =>
        requests.map((r) => {
          const p = this.#patientTx(project, r.key, policy);
          return { pseudonym: p.pseudonym, uids: this.#uidsTx(p.projectId, p.rowId, r.uids, policy) };
        }),
      )
      .immediate();
  }

  async findByOriginal(project: string, key: PatientKey): Promise<PatientRecord | undefined> {
    const row = this.#run(
      () =>
        this.#sql(
            `SELECT p.* FROM patients p JOIN projects j ON j.id = p.project_id
             WHERE j.name = ? AND p.original_id = ? AND p.original_issuer = ?`,
          )
          .get(project, key.patientId, key.issuer) as PatientRow | undefined,
    );
    return row && toRecord(project, row);
  }

  async findByPseudonym(project: string, pseudonymousPatientId: string): Promise<PatientRecord | undefined> {
    const row = this.#run(
      () =>
        this.#sql('SELECT p.* FROM patients p JOIN projects j ON j.id = p.project_id WHERE j.name = ? AND p.pseudo_id = ?')
          .get(project, pseudonymousPatientId) as PatientRow | undefined,
    );
    return row && toRecord(project, row);
  }

  async findOriginalUid(project: string, replacement: string): Promise<string | undefined> {
    const row = this.#run(
      () =>
        this.#sql('SELECT u.original FROM uids u JOIN projects j ON j.id = u.project_id WHERE j.name = ? AND u.replacement = ?')
          .get(project, replacement) as { original: string } | undefined,
    );
    return row?.original;
  }

  async listPatients(project: string): Promise<PatientRecord[]> {
    const rows = this.#run(
      () =>
        this.#sql('SELECT p.* FROM patients p JOIN projects j ON j.id = p.project_id WHERE j.name = ? ORDER BY p.id')
          .all(project) as PatientRow[],
    );
    return rows.map((r) => toRecord(project, r));
  }

  async importPatients(project: string, rows: readonly ImportRow[], policy: PseudonymPolicy): Promise<ImportResult> {
    return this.#write(() =>
      this.#db
        .transaction(() => {
          const projectId = this.#projectId(project);
          let imported = 0;
          let unchanged = 0;
          let conflicts = 0;
          const byOriginal = this.#sql(
            'SELECT * FROM patients WHERE project_id = ? AND original_id = ? AND original_issuer = ?',
          );
          const byPseudo = this.#sql('SELECT * FROM patients WHERE project_id = ? AND pseudo_id = ?');
          for (const r of rows) {
            const a = byOriginal.get(projectId, r.original.patientId, r.original.issuer) as PatientRow | undefined;
            const b = byPseudo.get(projectId, r.patientId) as PatientRow | undefined;
            if (a || b) {
              if (a && b && a.id === b.id) unchanged++;
              else conflicts++;
              continue;
            }
            const name = r.patientName ?? renderPattern(policy.namePattern, { prefix: policy.prefix, seq: 0, id: r.patientId });
            this.#insertPatient(projectId, r.original, r.patientId, name, r.dateShiftDays ?? drawDateShift(policy));
            imported++;
          }
          return { imported, unchanged, conflicts };
        })
        .immediate(),
    );
  }

  async deletePatient(project: string, key: PatientKey): Promise<boolean> {
    return this.#write(() =>
      this.#db
        .transaction(() => {
          const row = this.#sql(
              `SELECT p.id FROM patients p JOIN projects j ON j.id = p.project_id
               WHERE j.name = ? AND p.original_id = ? AND p.original_issuer = ?`,
            )
            .get(project, key.patientId, key.issuer) as { id: number } | undefined;
          if (!row) return false;
          this.#sql('DELETE FROM uids WHERE patient_id = ?').run(row.id);
          this.#sql('DELETE FROM patients WHERE id = ?').run(row.id);
          return true;
        })
        .immediate(),
    );
  }

  async close(): Promise<void> {
    await this.#walSync?.close();
    await this.#checkpointer?.close();
    this.#db.close();
  }

  /** A write transaction, resolved once its commit is durable (one shared WAL flush). */
  async #write<T>(fn: () => T): Promise<T> {
    const result = this.#run(fn);
    await this.#walSync?.sync();
    return result;
  }

  // Runs a statement block, turning driver failures into a coded error without key values in it.
  #run<T>(fn: () => T): T {
    try {
      return fn();
    } catch (cause) {
      if (cause instanceof AppError) throw cause;
      throw new AppError('KEYS_UNAVAILABLE', { detail: `SQLite: ${(cause as { code?: string }).code ?? 'error'}`, cause });
    }
  }

  #sql(sql: string): Database.Statement {
    let st = this.#stmts.get(sql);
    if (!st) {
      st = this.#db.prepare(sql);
      this.#stmts.set(sql, st);
    }
    return st;
  }

  #projectId(project: string): number {
    const known = this.#projectIds.get(project);
    if (known !== undefined) return known;
    const inserted = this.#sql('INSERT OR IGNORE INTO projects (name) VALUES (?)').run(project).changes > 0;
    const id = (this.#sql('SELECT id FROM projects WHERE name = ?').get(project) as { id: number }).id;
    // Only a row committed before this transaction is remembered: one inserted here vanishes if the
    // transaction rolls back. Project rows are never deleted or renamed, so a remembered id stays right.
    if (!inserted) this.#projectIds.set(project, id);
    return id;
  }

  // Must run inside an IMMEDIATE transaction. Looks up before generating: the same PatientID must map to
  // the same pseudonym across studies.
  #patientTx(project: string, key: PatientKey, policy: PseudonymPolicy): { projectId: number; rowId: number; pseudonym: PatientPseudonym } {
    const projectId = this.#projectId(project);
    const existing = this.#sql('SELECT * FROM patients WHERE project_id = ? AND original_id = ? AND original_issuer = ?')
      .get(projectId, key.patientId, key.issuer) as PatientRow | undefined;
    if (existing) return { projectId, rowId: existing.id, pseudonym: toRecord(project, existing).pseudonym };
    const shift = drawDateShift(policy);
    for (let attempt = 0; ; attempt++) {
      const { next_seq: seq } = this.#sql('SELECT next_seq FROM projects WHERE id = ?').get(projectId) as { next_seq: number };
      const id = renderPattern(policy.idPattern, { prefix: policy.prefix, seq });
      const name = renderPattern(policy.namePattern, { prefix: policy.prefix, seq, id });
      this.#sql('UPDATE projects SET next_seq = next_seq + 1 WHERE id = ?').run(projectId);
      try {
        const rowId = this.#insertPatient(projectId, key, id, name, shift);
        return { projectId, rowId, pseudonym: { patientId: id, patientName: name, dateShiftDays: shift } };
      } catch (e) {
        // A pseudonym taken by an imported mapping or a random collision: draw the next one.
        if (!isUniqueViolation(e) || attempt >= (patternIsRandom(policy.idPattern) ? MAX_RANDOM_ATTEMPTS : MAX_SEQ_SKIPS)) throw e;
      }
    }
  }

  #insertPatient(projectId: number, key: PatientKey, id: string, name: string, shift: number): number {
    const r = this.#sql(
        `INSERT INTO patients (project_id, original_id, original_issuer, pseudo_id, pseudo_name, date_shift_days, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(projectId, key.patientId, key.issuer, id, name, shift, new Date().toISOString());
    return Number(r.lastInsertRowid);
  }

  #uidsTx(projectId: number, patientRowId: number, uids: readonly string[], policy: PseudonymPolicy): Map<string, string> {
    const out = new Map<string, string>();
    const get = this.#sql('SELECT replacement FROM uids WHERE project_id = ? AND original = ?');
    const put = this.#sql('INSERT INTO uids (project_id, original, replacement, patient_id) VALUES (?, ?, ?, ?)');
    for (const uid of uids) {
      if (out.has(uid)) continue;
      let rep = (get.get(projectId, uid) as { replacement: string } | undefined)?.replacement;
      if (rep === undefined) {
        rep = newUid(policy.uidRoot);
        put.run(projectId, uid, rep, patientRowId);
      }
      out.set(uid, rep);
    }
    return out;
  }
}
