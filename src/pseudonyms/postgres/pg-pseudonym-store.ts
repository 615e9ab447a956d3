// PostgreSQL key database, for sites that run several gateways against one key store.
// Get-or-create locks the project row (SELECT ... FOR UPDATE) before re-checking the patient, so two
// associations de-identifying a new patient at the same moment end with exactly one pseudonym.
// UIDs use INSERT ... ON CONFLICT DO NOTHING and read back the winner, so no lock is needed there.
import pg from 'pg';
import { AppError, isAppError } from '../../core/errors.ts';
import type { PatientKey, PatientPseudonym, PseudonymPolicy } from '../../deid/pseudonymizer.ts';
import { drawDateShift, newUid, patternIsRandom, renderPattern } from '../generate.ts';
import type { ImportResult, ImportRow, PatientRecord, PseudonymStore } from '../pseudonym-store.ts';
import { PG_MIGRATIONS } from './migrations.ts';

interface PatientRow {
  id: string;
  original_id: string;
  original_issuer: string;
  pseudo_id: string;
  pseudo_name: string;
  date_shift_days: number;
  created_at: Date;
}

const MAX_RANDOM_ATTEMPTS = 20;
const MAX_SEQ_SKIPS = 100_000;
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function toRecord(project: string, r: PatientRow): PatientRecord {
  return {
    project,
    original: { patientId: r.original_id, issuer: r.original_issuer },
    pseudonym: { patientId: r.pseudo_id, patientName: r.pseudo_name, dateShiftDays: r.date_shift_days },
    createdAt: r.created_at.toISOString(),
  };
}

export interface PgPseudonymStoreOptions {
  /** Schema holding the tables (created when missing); default "dicomgate_keys". */
  readonly schema?: string;
}

export class PgPseudonymStore implements PseudonymStore {
  readonly #pool: pg.Pool;
  readonly #schema: string;

  constructor(pool: pg.Pool, opts: PgPseudonymStoreOptions = {}) {
    this.#pool = pool;
    this.#schema = opts.schema ?? 'dicomgate_keys';
    if (!SCHEMA_NAME.test(this.#schema)) throw new AppError('DEID_PROJECT_INVALID', { detail: `bad schema name ${this.#schema}` });
  }

  async migrate(): Promise<void> {
    await this.#tx(async (c) => {
      // One migrator at a time per schema, whatever the number of gateway processes starting.
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`dicomgate_keys_migrate:${this.#schema}`]);
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${this.#schema}`);
      await c.query(`SET LOCAL search_path TO ${this.#schema}`);
      await c.query('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
      const { rows } = await c.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_version');
      for (let v = rows[0].v ?? 0; v < PG_MIGRATIONS.length; v++) {
        await c.query(PG_MIGRATIONS[v]);
        await c.query('INSERT INTO schema_version (version) VALUES ($1)', [v + 1]);
      }
    });
  }

  async getOrCreatePatient(project: string, key: PatientKey, policy: PseudonymPolicy): Promise<PatientPseudonym> {
    return (await this.#tx((c) => this.#patientTx(c, project, key, policy))).pseudonym;
  }

  async mapUids(project: string, key: PatientKey, uids: readonly string[], policy: PseudonymPolicy): Promise<Map<string, string>> {
    return this.#tx(async (c) => {
      const p = await this.#patientTx(c, project, key, policy);
      return this.#uidsTx(c, p.projectId, p.rowId, uids, policy);
    });
  }

  async resolveBatch(
    project: string,
    requests: readonly { key: PatientKey; uids: readonly string[] }[],
    policy: PseudonymPolicy,
  ): Promise<{ pseudonym: PatientPseudonym; uids: Map<string, string> }[]> {
    return this.#tx(async (c) => {
      const out: { pseudonym: PatientPseudonym; uids: Map<string, string> }[] = [];
      for (const r of requests) {
        const p = await this.#patientTx(c, project, r.key, policy);
        out.push({ pseudonym: p.pseudonym, uids: await this.#uidsTx(c, p.projectId, p.rowId, r.uids, policy) });
      }
      return out;
    });
  }

  async findByOriginal(project: string, key: PatientKey): Promise<PatientRecord | undefined> {
    const rows = await this.#query<PatientRow>(
      `SELECT p.* FROM patients p JOIN projects j ON j.id = p.project_id
       WHERE j.name = $1 AND p.original_id = $2 AND p.original_issuer = $3`,
      [project, key.patientId, key.issuer],
    );
    return rows[0] && toRecord(project, rows[0]);
  }

  async findByPseudonym(project: string, pseudonymousPatientId: string): Promise<PatientRecord | undefined> {
    const rows = await this.#query<PatientRow>(
      'SELECT p.* FROM patients p JOIN projects j ON j.id = p.project_id WHERE j.name = $1 AND p.pseudo_id = $2',
      [project, pseudonymousPatientId],
    );
    return rows[0] && toRecord(project, rows[0]);
  }

  async findOriginalUid(project: string, replacement: string): Promise<string | undefined> {
    const rows = await this.#query<{ original: string }>(
      'SELECT u.original FROM uids u JOIN projects j ON j.id = u.project_id WHERE j.name = $1 AND u.replacement = $2',
      [project, replacement],
    );
    return rows[0]?.original;
  }

  async listPatients(project: string): Promise<PatientRecord[]> {
    const rows = await this.#query<PatientRow>(
      'SELECT p.* FROM patients p JOIN projects j ON j.id = p.project_id WHERE j.name = $1 ORDER BY p.id',
      [project],
    );
    return rows.map((r) => toRecord(project, r));
  }

  async importPatients(project: string, rows: readonly ImportRow[], policy: PseudonymPolicy): Promise<ImportResult> {
    return this.#tx(async (c) => {
      const projectId = await this.#lockProject(c, project);
      let imported = 0;
      let unchanged = 0;
      let conflicts = 0;
      for (const r of rows) {
        const { rows: found } = await c.query<{ id: string; by: string }>(
          `SELECT id, 'o' AS by FROM patients WHERE project_id = $1 AND original_id = $2 AND original_issuer = $3
           UNION ALL SELECT id, 'p' FROM patients WHERE project_id = $1 AND pseudo_id = $4`,
          [projectId, r.original.patientId, r.original.issuer, r.patientId],
        );
        if (found.length > 0) {
          if (found.length === 2 && found[0].id === found[1].id) unchanged++;
          else conflicts++;
          continue;
        }
        const name = r.patientName ?? renderPattern(policy.namePattern, { prefix: policy.prefix, seq: 0, id: r.patientId });
        await this.#insertPatient(c, projectId, r.original, r.patientId, name, r.dateShiftDays ?? drawDateShift(policy));
        imported++;
      }
      return { imported, unchanged, conflicts };
    });
  }

  async deletePatient(project: string, key: PatientKey): Promise<boolean> {
    return this.#tx(async (c) => {
      const { rows } = await c.query<{ id: string }>(
        `SELECT p.id FROM patients p JOIN projects j ON j.id = p.project_id
         WHERE j.name = $1 AND p.original_id = $2 AND p.original_issuer = $3`,
        [project, key.patientId, key.issuer],
      );
      if (rows.length === 0) return false;
      await c.query('DELETE FROM uids WHERE patient_id = $1', [rows[0].id]);
      await c.query('DELETE FROM patients WHERE id = $1', [rows[0].id]);
      return true;
    });
  }

  /** The pool belongs to the caller (main.ts); closing the store does not end it. */
  async close(): Promise<void> {}

  async #query<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<R[]> {
    return this.#tx(async (c) => (await c.query<R>(sql, params)).rows);
  }

  async #tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (cause) {
      throw new AppError('KEYS_UNAVAILABLE', { detail: 'cannot connect to PostgreSQL key database', cause });
    }
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL search_path TO ${this.#schema}`);
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (cause) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (isAppError(cause)) throw cause;
      // The driver's message may quote a key value (unique violation detail): keep only the SQLSTATE.
      throw new AppError('KEYS_UNAVAILABLE', { detail: `PostgreSQL ${(cause as { code?: string }).code ?? 'error'}`, cause });
    } finally {
      client.release();
    }
  }

  async #lockProject(c: pg.PoolClient, project: string): Promise<number> {
    await c.query('INSERT INTO projects (name) VALUES ($1) ON CONFLICT (name) DO NOTHING', [project]);
    const { rows } = await c.query<{ id: number }>('SELECT id FROM projects WHERE name = $1 FOR UPDATE', [project]);
    return rows[0].id;
  }

  async #findPatient(c: pg.PoolClient, projectName: string, key: PatientKey): Promise<{ row: PatientRow; projectId: number } | undefined> {
    const { rows } = await c.query<PatientRow & { project_id: number }>(
      `SELECT p.* FROM patients p JOIN projects j ON j.id = p.project_id
       WHERE j.name = $1 AND p.original_id = $2 AND p.original_issuer = $3`,
      [projectName, key.patientId, key.issuer],
    );
    return rows[0] && { row: rows[0], projectId: rows[0].project_id };
  }

  async #patientTx(
    c: pg.PoolClient,
    project: string,
    key: PatientKey,
    policy: PseudonymPolicy,
  ): Promise<{ projectId: number; rowId: string; pseudonym: PatientPseudonym }> {
    // Fast path without the project lock: known patients are the common case.
    const known = await this.#findPatient(c, project, key);
    if (known) return { projectId: known.projectId, rowId: known.row.id, pseudonym: toRecord(project, known.row).pseudonym };
    const projectId = await this.#lockProject(c, project);
    // Re-check under the lock: another transaction may have created the patient meanwhile.
    const raced = await this.#findPatient(c, project, key);
    if (raced) return { projectId, rowId: raced.row.id, pseudonym: toRecord(project, raced.row).pseudonym };
    const shift = drawDateShift(policy);
    const limit = patternIsRandom(policy.idPattern) ? MAX_RANDOM_ATTEMPTS : MAX_SEQ_SKIPS;
    for (let attempt = 0; attempt < limit; attempt++) {
      const { rows } = await c.query<{ seq: string }>('UPDATE projects SET next_seq = next_seq + 1 WHERE id = $1 RETURNING next_seq - 1 AS seq', [
        projectId,
      ]);
      const seq = Number(rows[0].seq);
      const id = renderPattern(policy.idPattern, { prefix: policy.prefix, seq });
      // A pseudonym already taken (imported mapping, random collision) is skipped, not an error.
      const { rows: taken } = await c.query('SELECT 1 FROM patients WHERE project_id = $1 AND pseudo_id = $2', [projectId, id]);
      if (taken.length > 0) continue;
      const name = renderPattern(policy.namePattern, { prefix: policy.prefix, seq, id });
      const rowId = await this.#insertPatient(c, projectId, key, id, name, shift);
      return { projectId, rowId, pseudonym: { patientId: id, patientName: name, dateShiftDays: shift } };
    }
    throw new AppError('KEYS_UNAVAILABLE', { detail: 'no free pseudonym for the pattern' });
  }

  async #insertPatient(c: pg.PoolClient, projectId: number, key: PatientKey, id: string, name: string, shift: number): Promise<string> {
    const { rows } = await c.query<{ id: string }>(
      `INSERT INTO patients (project_id, original_id, original_issuer, pseudo_id, pseudo_name, date_shift_days)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
      [projectId, key.patientId, key.issuer, id, name, shift],
    );
    return rows[0].id;
  }

  async #uidsTx(c: pg.PoolClient, projectId: number, patientRowId: string, uids: readonly string[], policy: PseudonymPolicy): Promise<Map<string, string>> {
    // Sorted: concurrent transactions take the unique-index locks in one order and cannot deadlock.
    const distinct = [...new Set(uids)].sort();
    if (distinct.length === 0) return new Map();
    const fresh = distinct.map(() => newUid(policy.uidRoot));
    // Whoever inserts first wins; everyone reads the winner back.
    await c.query(
      `INSERT INTO uids (project_id, original, replacement, patient_id)
       SELECT $1, o, r, $4 FROM unnest($2::text[], $3::text[]) AS t(o, r)
       ON CONFLICT (project_id, original) DO NOTHING`,
      [projectId, distinct, fresh, patientRowId],
    );
    const { rows } = await c.query<{ original: string; replacement: string }>(
      'SELECT original, replacement FROM uids WHERE project_id = $1 AND original = ANY($2::text[])',
      [projectId, distinct],
    );
    return new Map(rows.map((r) => [r.original, r.replacement]));
  }
}
