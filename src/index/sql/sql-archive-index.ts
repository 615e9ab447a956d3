// ArchiveIndex over the SqlDb port: the store / lookup / delete / changes logic shared by the
// SQLite and PostgreSQL adapters (sqlite/, postgres/). Only portable SQL here (see dialect.ts).
import type {
  ArchiveIndex, Change, ChangeType, ChangesPage, DeleteResult, DuplicatePolicy, IndexStatistics, StoreOptions,
  InstanceRecord, InstanceSource, ProjectScope, ResourceRecord, StoreOutcome,
} from '../archive-index.ts';
import { MODALITIES_COLUMN, foldCase, foldedColumn, mainTagsAt } from '../main-tags.ts';
import { compileQuery, scopeCondition, type MatchQuery, type QueryPage } from '../matching.ts';
import { LEVELS, resourceIds, type Level, type ResourceIds } from '../resource-ids.ts';
import type { SqlDb, SqlValue } from './sql-db.ts';
import { TABLES, childLevel, levelIndex } from './tables.ts';

type Row = Record<string, unknown>;

/** INSERT statement and value builder for one level's row. */
interface LevelInsert {
  sql: string;
  values(tags: InstanceRecord['tags']): SqlValue[];
}

function levelInsert(level: Level, extra: string[], onConflict = ''): LevelInsert {
  const cols: string[] = ['public_id'];
  const T = TABLES[level];
  if (T.parentColumn) cols.push(T.parentColumn);
  const tags = mainTagsAt(level);
  for (const m of tags) {
    cols.push(m.column);
    if (m.vr === 'PN') cols.push(foldedColumn(m));
  }
  cols.push(...extra);
  const sql = `INSERT INTO ${T.table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')}) ${onConflict ? `${onConflict} ` : ''}RETURNING pk`;
  return {
    sql,
    values(t) {
      const out: SqlValue[] = [];
      for (const m of tags) {
        // PatientID is NOT NULL: Orthanc treats a missing one as the empty string.
        const v = t[m.keyword] ?? (m.keyword === 'PatientID' ? '' : null);
        out.push(v);
        if (m.vr === 'PN') out.push(v === null ? null : foldCase(v));
      }
      return out;
    },
  };
}

const INSERTS: Record<Level, LevelInsert> = {
  patient: levelInsert('patient', ['created_at']),
  study: levelInsert('study', ['created_at']),
  series: levelInsert('series', ['created_at']),
  instance: levelInsert('instance', [
    'blob_key', 'file_size', 'transfer_syntax_uid', 'received_at', 'transport', 'remote_ae', 'called_ae', 'remote_host', 'project',
  ], 'ON CONFLICT (sop_instance_uid) DO NOTHING'),
};

/** State of one write transaction. */
interface Tx {
  db: SqlDb;
  now: string;
  /** Orthanc id → pk of patients/studies/series seen in this transaction (a batch is usually one series). */
  pks: Map<string, number>;
  /** Change-log rows, written in order by flushChanges at the end of the transaction. */
  changes: SqlValue[][];
  /** "seriesPk|project" whose ancestors are already linked to the project in this transaction. */
  linked: Set<string>;
}

function newTx(db: SqlDb): Tx {
  return { db, now: new Date().toISOString(), pks: new Map(), changes: [], linked: new Set() };
}

function recordChange(tx: Tx, type: ChangeType, level: Level, id: string): void {
  tx.changes.push([type, level, id, tx.now]);
}

/** Multi-row INSERTs of 100 changes: one statement instead of one per instance. */
async function flushChanges(tx: Tx): Promise<void> {
  for (let i = 0; i < tx.changes.length; i += 100) {
    const rows = tx.changes.slice(i, i + 100);
    await tx.db.run(
      `INSERT INTO changes (change_type, resource_level, resource_id, changed_at) VALUES ${rows.map(() => '(?, ?, ?, ?)').join(', ')}`,
      rows.flat(),
    );
  }
  tx.changes.length = 0;
}

const FILE_COLUMNS = 'i.blob_key AS f_blob_key, i.file_size AS f_file_size, i.transfer_syntax_uid AS f_ts, i.received_at AS f_received_at, i.transport AS f_transport, i.remote_ae AS f_remote_ae, i.called_ae AS f_called_ae, i.remote_host AS f_remote_host, i.project AS f_project';

/** Link rows (projects, labels) keyed by level and pk, removed with their resource. */
const LINK_TABLES = ['resource_projects', 'resource_labels'] as const;

/**
 * Links a series, its study and its patient to a project ('' for none) in one statement; the
 * primary key makes repeats no-ops. Run once per series and project in a transaction.
 */
const LINK_PROJECT_SQL = `INSERT INTO resource_projects (resource_level, resource_pk, project) VALUES
  ('series', ?, ?),
  ('study', (SELECT study_pk FROM series WHERE pk = ?), ?),
  ('patient', (SELECT st.patient_pk FROM series se JOIN studies st ON st.pk = se.study_pk WHERE se.pk = ?), ?)
  ON CONFLICT DO NOTHING`;

export class SqlArchiveIndex implements ArchiveIndex {
  constructor(private readonly db: SqlDb) {
    // Only where commits can be deferred (SQLite): callers test for the method before asking.
    if (db.sync) this.syncCommitted = () => db.sync!();
  }

  /** See ArchiveIndex.syncCommitted; set by the constructor when the database can defer syncs. */
  readonly syncCommitted?: () => Promise<void>;

  storeInstances(records: readonly InstanceRecord[], duplicates: DuplicatePolicy, opts?: StoreOptions): Promise<StoreOutcome[]> {
    if (records.length === 0) return Promise.resolve([]);
    return this.db.transaction(async (db) => {
      const tx = newTx(db);
      const out: StoreOutcome[] = [];
      for (const r of records) out.push(await this.storeOne(tx, r, duplicates));
      await flushChanges(tx);
      return out;
    }, opts);
  }

  private async storeOne(tx: Tx, r: InstanceRecord, duplicates: DuplicatePolicy): Promise<StoreOutcome> {
    const t = r.tags;
    const ids = resourceIds({
      patientId: t.PatientID,
      studyInstanceUid: t.StudyInstanceUID ?? '',
      seriesInstanceUid: t.SeriesInstanceUID ?? '',
      sopInstanceUid: t.SOPInstanceUID ?? '',
    });
    // Fast path (every instance after a series' first): the series exists, so one INSERT that
    // does nothing on a known SOP Instance UID both stores and detects duplicates.
    const seriesPk = await this.lookupPk(tx, 'series', ids.series);
    if (seriesPk !== undefined && (await this.insertInstance(tx, r, ids, seriesPk)) !== undefined) {
      await this.linkProject(tx, seriesPk, r.source.project);
      return { status: 'stored', ids, created: ['instance'] };
    }

    const existing = await tx.db.get<{ pk: number; public_id: string; blob_key: string }>(
      'SELECT pk, public_id, blob_key FROM instances WHERE sop_instance_uid = ?',
      [t.SOPInstanceUID],
    );
    if (existing) {
      if (duplicates === 'keep-first') return { status: 'duplicate', ids: await this.idsOfInstance(tx.db, existing.pk) };
      tx.pks.clear();
      if (existing.public_id === ids.instance) {
        // Same place in the hierarchy: swap the instance row only, so its ancestors keep their history.
        await tx.db.run("DELETE FROM resource_labels WHERE resource_level = 'instance' AND resource_pk = ?", [existing.pk]);
        await tx.db.run('DELETE FROM instances WHERE pk = ?', [existing.pk]);
      } else {
        await this.deleteIn(tx, 'instance', existing.public_id);
      }
    }

    const created: Level[] = [];
    let parentPk: number | undefined;
    for (const level of ['patient', 'study', 'series'] as const) {
      const id = ids[level];
      let pk = await this.lookupPk(tx, level, id);
      if (pk === undefined) {
        const ins = INSERTS[level];
        const values: SqlValue[] = [id, ...(parentPk === undefined ? [] : [parentPk]), ...ins.values(t), tx.now];
        pk = (await tx.db.get<{ pk: number }>(ins.sql, values))!.pk;
        created.push(level);
        recordChange(tx, NEW_CHANGE[level], level, id);
        if (level === 'series' && t.Modality) await this.updateModalities(tx.db, parentPk!);
        tx.pks.set(id, pk);
      }
      parentPk = pk;
    }
    await this.insertInstance(tx, r, ids, parentPk!);
    await this.linkProject(tx, parentPk!, r.source.project);
    created.push('instance');
    if (existing) return { status: 'replaced', ids, replacedBlobKey: existing.blob_key };
    return { status: 'stored', ids, created };
  }

  private async linkProject(tx: Tx, seriesPk: number, project: string | undefined): Promise<void> {
    const name = project ?? '';
    const key = `${seriesPk}|${name}`;
    if (tx.linked.has(key)) return;
    await tx.db.run(LINK_PROJECT_SQL, [seriesPk, name, seriesPk, name, seriesPk, name]);
    tx.linked.add(key);
  }

  /** pk of a patient/study/series by Orthanc id, through the transaction's cache. */
  private async lookupPk(tx: Tx, level: Exclude<Level, 'instance'>, id: string): Promise<number | undefined> {
    const cached = tx.pks.get(id);
    if (cached !== undefined) return cached;
    const pk = (await tx.db.get<{ pk: number }>(`SELECT pk FROM ${TABLES[level].table} WHERE public_id = ?`, [id]))?.pk;
    if (pk !== undefined) tx.pks.set(id, pk);
    return pk;
  }

  /** Inserts the instance row; undefined when its SOP Instance UID is already stored. */
  private async insertInstance(tx: Tx, r: InstanceRecord, ids: ResourceIds, seriesPk: number): Promise<number | undefined> {
    const values: SqlValue[] = [ids.instance, seriesPk, ...INSERTS.instance.values(r.tags), r.blobKey, r.fileSize,
      r.transferSyntaxUid, r.receivedAt.toISOString(), r.source.transport, r.source.remoteAe, r.source.calledAe, r.source.remoteHost,
      r.source.project ?? null];
    const row = await tx.db.get<{ pk: number }>(INSERTS.instance.sql, values);
    if (row) recordChange(tx, 'NewInstance', 'instance', ids.instance);
    return row?.pk;
  }

  private async idsOfInstance(tx: SqlDb, instancePk: number): Promise<ResourceIds> {
    const r = (await tx.get<Row>(
      `SELECT p.public_id AS patient, st.public_id AS study, se.public_id AS series, i.public_id AS instance
       FROM instances i JOIN series se ON se.pk = i.series_pk JOIN studies st ON st.pk = se.study_pk
       JOIN patients p ON p.pk = st.patient_pk WHERE i.pk = ?`,
      [instancePk],
    ))!;
    return { patient: String(r.patient), study: String(r.study), series: String(r.series), instance: String(r.instance) };
  }

  private async updateModalities(tx: SqlDb, studyPk: number): Promise<void> {
    const rows = await tx.all<{ modality: string }>(
      "SELECT DISTINCT modality FROM series WHERE study_pk = ? AND modality IS NOT NULL AND modality <> ''",
      [studyPk],
    );
    const value = rows.map((r) => r.modality).sort().join('\\');
    await tx.run(`UPDATE studies SET ${MODALITIES_COLUMN} = ? WHERE pk = ?`, [value, studyPk]);
  }

  async getResource(level: Level, id: string): Promise<ResourceRecord | undefined> {
    const rows = await this.selectResources(level, `${TABLES[level].alias}.public_id = ?`, [id]);
    return rows[0];
  }

  findByUid(level: Exclude<Level, 'patient'>, uid: string): Promise<ResourceRecord[]> {
    const column = { study: 'study_instance_uid', series: 'series_instance_uid', instance: 'sop_instance_uid' }[level];
    return this.selectResources(level, `${TABLES[level].alias}.${column} = ?`, [uid]);
  }

  listChildren(level: Exclude<Level, 'instance'>, id: string): Promise<ResourceRecord[]> {
    return this.selectResources(childLevel(level)!, `${TABLES[level].alias}.public_id = ?`, [id]);
  }

  listInstances(level: Level, id: string): Promise<ResourceRecord[]> {
    return this.selectResources('instance', `${TABLES[level].alias}.public_id = ?`, [id], level);
  }

  /** Rows of `level` joined up to `top` (default: the parent), filtered by `where` over those aliases. */
  private async selectResources(level: Level, where: string, params: SqlValue[], top?: Level): Promise<ResourceRecord[]> {
    const T = TABLES[level];
    const li = levelIndex(level);
    // Always join the parent (for parentId); further up when `where` filters on an ancestor.
    const joinTo = Math.min(li - 1, top === undefined ? li - 1 : levelIndex(top));
    const tags = mainTagsAt(level);
    const select = [`${T.alias}.public_id AS id`, T.parentLevel ? `${TABLES[T.parentLevel].alias}.public_id AS parent_id` : 'NULL AS parent_id'];
    tags.forEach((m, i) => select.push(`${T.alias}.${m.column} AS c${i}`));
    if (level === 'study') select.push(`${T.alias}.${MODALITIES_COLUMN} AS modalities`);
    if (level === 'instance') select.push(FILE_COLUMNS);
    let from = `${T.table} ${T.alias}`;
    for (let l = li; l > joinTo && l > 0; l--) {
      const child = TABLES[LEVELS[l]];
      const parent = TABLES[LEVELS[l - 1]];
      from += ` JOIN ${parent.table} ${parent.alias} ON ${parent.alias}.pk = ${child.alias}.${child.parentColumn}`;
    }
    const rows = await this.db.all<Row>(`SELECT ${select.join(', ')} FROM ${from} WHERE ${where} ORDER BY ${T.alias}.pk`, params);
    return rows.map((r) => {
      const rec: ResourceRecord = { level, id: String(r.id), parentId: r.parent_id == null ? undefined : String(r.parent_id), tags: {} };
      tags.forEach((m, i) => (rec.tags[m.keyword] = (r[`c${i}`] as string | null) ?? null));
      if (level === 'study') rec.tags.ModalitiesInStudy = (r.modalities as string | null) ?? null;
      if (level === 'instance') {
        rec.file = {
          blobKey: String(r.f_blob_key),
          fileSize: Number(r.f_file_size),
          transferSyntaxUid: String(r.f_ts),
          receivedAt: String(r.f_received_at),
          source: {
            transport: r.f_transport as InstanceSource['transport'],
            ...(r.f_remote_ae != null ? { remoteAe: String(r.f_remote_ae) } : {}),
            ...(r.f_called_ae != null ? { calledAe: String(r.f_called_ae) } : {}),
            ...(r.f_remote_host != null ? { remoteHost: String(r.f_remote_host) } : {}),
            ...(r.f_project != null ? { project: String(r.f_project) } : {}),
          },
        };
      }
      return rec;
    });
  }

  async query(q: MatchQuery): Promise<QueryPage> {
    const c = compileQuery(q, this.db.dialect);
    // Rows as arrays: id, parent_id, then c.columns in order (compileQuery's SELECT).
    const rows = await this.db.values(c.sql, c.params as SqlValue[]);
    const hasMore = q.limit !== undefined && rows.length > q.limit;
    const page = hasMore ? rows.slice(0, q.limit) : rows;
    const columns = c.columns;
    return {
      matches: page.map((r) => {
        const tags: Record<string, string | null> = {};
        for (let i = 0; i < columns.length; i++) {
          const v = r[i + 2];
          tags[columns[i].keyword] = v == null ? null : String(v);
        }
        return { level: q.level, id: String(r[0]), parentId: r[1] == null ? undefined : String(r[1]), tags };
      }),
      hasMore,
      ignoredKeys: c.ignoredKeys,
    };
  }

  deleteResource(level: Level, id: string): Promise<DeleteResult | undefined> {
    return this.db.transaction(async (db) => {
      const tx = newTx(db);
      const result = await this.deleteIn(tx, level, id);
      await flushChanges(tx);
      return result;
    });
  }

  private async deleteIn(txState: Tx, level: Level, id: string): Promise<DeleteResult | undefined> {
    const tx = txState.db;
    const T = TABLES[level];
    const row = await tx.get<Row>(
      `SELECT pk${T.parentColumn ? `, ${T.parentColumn} AS parent_pk` : ''} FROM ${T.table} WHERE public_id = ?`,
      [id],
    );
    if (!row) return undefined;
    const pk = Number(row.pk);
    const li = levelIndex(level);
    const blobKeys =
      level === 'instance'
        ? (await tx.all<{ blob_key: string }>('SELECT blob_key FROM instances WHERE pk = ?', [pk])).map((r) => r.blob_key)
        : (await tx.all<{ blob_key: string }>(`SELECT blob_key FROM instances WHERE series_pk IN (${pksUnder(level, 'series')})`, [pk])).map((r) => r.blob_key);
    // Descendants bottom-up (no reliance on ON DELETE CASCADE, which SQLite only honours with a pragma).
    for (let l = LEVELS.length - 1; l > li; l--) {
      const D = TABLES[LEVELS[l]];
      const parentSet = l - 1 === li ? '?' : pksUnder(level, LEVELS[l - 1]);
      await unlink(tx, LEVELS[l], `SELECT pk FROM ${D.table} WHERE ${D.parentColumn} IN (${parentSet})`, [pk]);
      await tx.run(`DELETE FROM ${D.table} WHERE ${D.parentColumn} IN (${parentSet})`, [pk]);
    }
    await unlink(tx, level, '?', [pk]);
    await tx.run(`DELETE FROM ${T.table} WHERE pk = ?`, [pk]);
    const deleted: DeleteResult['deleted'] = [{ level, id }];
    recordChange(txState, 'Deleted', level, id);

    let remainingAncestor: DeleteResult['remainingAncestor'];
    let childLvl = level;
    let parentPk = row.parent_pk == null ? undefined : Number(row.parent_pk);
    while (parentPk !== undefined) {
      const P = TABLES[childLvl];
      const parentLevel = P.parentLevel!;
      const PT = TABLES[parentLevel];
      const parent = (await tx.get<Row>(
        `SELECT public_id${PT.parentColumn ? `, ${PT.parentColumn} AS parent_pk` : ''} FROM ${PT.table} WHERE pk = ?`,
        [parentPk],
      ))!;
      const left = await tx.get<Row>(`SELECT pk FROM ${P.table} WHERE ${P.parentColumn} = ? LIMIT 1`, [parentPk]);
      if (left) {
        if (childLvl === 'series') await this.updateModalities(tx, parentPk);
        remainingAncestor = { level: parentLevel, id: String(parent.public_id) };
        break;
      }
      await unlink(tx, parentLevel, '?', [parentPk]);
      await tx.run(`DELETE FROM ${PT.table} WHERE pk = ?`, [parentPk]);
      deleted.push({ level: parentLevel, id: String(parent.public_id) });
      recordChange(txState, 'Deleted', parentLevel, String(parent.public_id));
      childLvl = parentLevel;
      parentPk = parent.parent_pk == null ? undefined : Number(parent.parent_pk);
    }
    return { deleted, blobKeys, ...(remainingAncestor ? { remainingAncestor } : {}) };
  }

  async hasBlobKey(blobKey: string): Promise<boolean> {
    return (await this.db.get('SELECT pk FROM instances WHERE blob_key = ? LIMIT 1', [blobKey])) !== undefined;
  }

  async statistics(): Promise<IndexStatistics> {
    const r = (await this.db.get<Row>(
      `SELECT (SELECT COUNT(*) FROM patients) AS patients, (SELECT COUNT(*) FROM studies) AS studies,
              (SELECT COUNT(*) FROM series) AS series, (SELECT COUNT(*) FROM instances) AS instances,
              (SELECT COALESCE(SUM(file_size), 0) FROM instances) AS total_size`,
    ))!;
    return {
      patients: Number(r.patients), studies: Number(r.studies), series: Number(r.series),
      instances: Number(r.instances), totalSize: Number(r.total_size),
    };
  }

  async changes(opts: { since?: number; limit?: number } = {}): Promise<ChangesPage> {
    const since = opts.since ?? 0;
    const limit = opts.limit ?? 100;
    const rows = await this.db.all<Row>(
      'SELECT seq, change_type, resource_level, resource_id, changed_at FROM changes WHERE seq > ? ORDER BY seq LIMIT ?',
      [since, limit + 1],
    );
    const page = rows.slice(0, limit);
    const changes: Change[] = page.map((r) => ({
      seq: Number(r.seq), type: r.change_type as ChangeType, level: r.resource_level as Level,
      resourceId: String(r.resource_id), date: String(r.changed_at),
    }));
    return { changes, last: changes.length ? changes[changes.length - 1].seq : since, done: rows.length <= limit };
  }

  async appendChange(type: ChangeType, level: Level, resourceId: string): Promise<number> {
    const row = await this.db.get<{ seq: number }>(
      'INSERT INTO changes (change_type, resource_level, resource_id, changed_at) VALUES (?, ?, ?, ?) RETURNING seq',
      [type, level, resourceId, new Date().toISOString()],
    );
    return Number(row!.seq);
  }

  async isVisible(level: Level, id: string, scope: ProjectScope): Promise<boolean> {
    const T = TABLES[level];
    const cond = scopeCondition(level, T.alias, scope);
    const row = await this.db.get(`SELECT 1 AS ok FROM ${T.table} ${T.alias} WHERE ${T.alias}.public_id = ? AND ${cond.sql}`, [id, ...(cond.params as SqlValue[])]);
    return row !== undefined;
  }

  async labels(level: Level, id: string): Promise<string[]> {
    const T = TABLES[level];
    const rows = await this.db.all<{ label: string }>(
      `SELECT l.label FROM resource_labels l JOIN ${T.table} r ON r.pk = l.resource_pk WHERE l.resource_level = ? AND r.public_id = ? ORDER BY l.label`,
      [level, id],
    );
    return rows.map((r) => r.label);
  }

  setLabel(level: Level, id: string, label: string, present: boolean): Promise<boolean> {
    return this.db.transaction(async (db) => {
      const row = await db.get<{ pk: number }>(`SELECT pk FROM ${TABLES[level].table} WHERE public_id = ?`, [id]);
      if (!row) return false;
      if (present) {
        await db.run('INSERT INTO resource_labels (resource_level, resource_pk, label) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', [level, row.pk, label]);
      } else {
        await db.run('DELETE FROM resource_labels WHERE resource_level = ? AND resource_pk = ? AND label = ?', [level, row.pk, label]);
      }
      return true;
    });
  }

  async allLabels(scope?: ProjectScope): Promise<string[]> {
    if (!scope) return (await this.db.all<{ label: string }>('SELECT DISTINCT label FROM resource_labels ORDER BY label')).map((r) => r.label);
    // Only labels on resources the reader can see: label names are free text.
    const found = new Set<string>();
    for (const level of LEVELS) {
      const T = TABLES[level];
      const cond = scopeCondition(level, T.alias, scope);
      const rows = await this.db.all<{ label: string }>(
        `SELECT DISTINCT l.label FROM resource_labels l JOIN ${T.table} ${T.alias} ON ${T.alias}.pk = l.resource_pk WHERE l.resource_level = ? AND ${cond.sql}`,
        [level, ...(cond.params as SqlValue[])],
      );
      for (const r of rows) found.add(r.label);
    }
    return [...found].sort();
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

/** Removes the project and label links of the `level` rows whose pks `pkSet` (SQL) selects. */
async function unlink(tx: SqlDb, level: Level, pkSet: string, params: SqlValue[]): Promise<void> {
  for (const table of LINK_TABLES) {
    await tx.run(`DELETE FROM ${table} WHERE resource_level = ? AND resource_pk IN (${pkSet})`, [level, ...params]);
  }
}

const NEW_CHANGE: Record<Level, ChangeType> = {
  patient: 'NewPatient', study: 'NewStudy', series: 'NewSeries', instance: 'NewInstance',
};

/** SQL selecting the pks of `target`-level rows under the `root`-level row bound to the one `?`. */
function pksUnder(root: Level, target: Level): string {
  const ri = levelIndex(root);
  const ti = levelIndex(target);
  let sql = '?';
  for (let l = ri + 1; l <= ti; l++) {
    const T = TABLES[LEVELS[l]];
    sql = `SELECT pk FROM ${T.table} WHERE ${T.parentColumn} IN (${sql})`;
  }
  return sql;
}
