// Versioned schema of the PostgreSQL index: the same tables and columns as the SQLite one
// (sqlite/migrations.ts), with identity keys. Append only; never edit a shipped migration.
import type { PostgresDb } from './postgres-db.ts';

export const PG_INDEX_MIGRATIONS: readonly { version: number; description: string; sql: string }[] = [
  {
    version: 1,
    description: 'patients, studies, series, instances, changes',
    sql: `
CREATE TABLE patients (
  pk BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  public_id TEXT NOT NULL UNIQUE,
  patient_id TEXT NOT NULL,
  patient_name TEXT, patient_name_ci TEXT,
  patient_birth_date TEXT,
  patient_sex TEXT,
  other_patient_ids TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX patients_patient_id ON patients (patient_id);
CREATE INDEX patients_patient_name ON patients (patient_name);

CREATE TABLE studies (
  pk BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  public_id TEXT NOT NULL UNIQUE,
  patient_pk BIGINT NOT NULL REFERENCES patients (pk),
  study_instance_uid TEXT NOT NULL,
  study_date TEXT, study_time TEXT, study_id TEXT, study_description TEXT, accession_number TEXT,
  referring_physician_name TEXT, referring_physician_name_ci TEXT,
  institution_name TEXT, requested_procedure_description TEXT,
  requesting_physician TEXT, requesting_physician_ci TEXT,
  modalities_in_study TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX studies_patient_pk ON studies (patient_pk);
CREATE INDEX studies_uid ON studies (study_instance_uid);
CREATE INDEX studies_date ON studies (study_date);
CREATE INDEX studies_accession ON studies (accession_number);

CREATE TABLE series (
  pk BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  public_id TEXT NOT NULL UNIQUE,
  study_pk BIGINT NOT NULL REFERENCES studies (pk),
  series_instance_uid TEXT NOT NULL,
  modality TEXT, series_number TEXT, series_description TEXT, series_date TEXT, series_time TEXT,
  body_part_examined TEXT, protocol_name TEXT, station_name TEXT, manufacturer TEXT,
  operators_name TEXT, operators_name_ci TEXT,
  performed_procedure_step_description TEXT, frame_of_reference_uid TEXT, image_orientation_patient TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX series_study_pk ON series (study_pk);
CREATE INDEX series_uid ON series (series_instance_uid);

CREATE TABLE instances (
  pk BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  public_id TEXT NOT NULL UNIQUE,
  series_pk BIGINT NOT NULL REFERENCES series (pk),
  sop_instance_uid TEXT NOT NULL UNIQUE,
  sop_class_uid TEXT, instance_number TEXT, image_position_patient TEXT, number_of_frames TEXT,
  acquisition_number TEXT, instance_creation_date TEXT, instance_creation_time TEXT,
  content_date TEXT, content_time TEXT, temporal_position_identifier TEXT, image_index TEXT,
  image_rows TEXT, image_columns TEXT,
  blob_key TEXT NOT NULL,
  file_size BIGINT NOT NULL,
  transfer_syntax_uid TEXT NOT NULL,
  received_at TEXT NOT NULL,
  transport TEXT NOT NULL, remote_ae TEXT, called_ae TEXT, remote_host TEXT
);
CREATE INDEX instances_series_pk ON instances (series_pk);
CREATE INDEX instances_blob_key ON instances (blob_key);

CREATE TABLE changes (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  change_type TEXT NOT NULL,
  resource_level TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  changed_at TEXT NOT NULL
);
`,
  },
  {
    version: 2,
    description: 'query indexes: patient name prefixes (both cases), series modality',
    // LIKE 'AB%' uses a B-tree only with text_pattern_ops unless the database collation is C
    // (PostgreSQL docs 11.10, "Operator Classes"); the index from version 1 serves = and ORDER BY.
    sql: `
CREATE INDEX patients_patient_name_prefix ON patients (patient_name text_pattern_ops);
CREATE INDEX patients_patient_name_ci_prefix ON patients (patient_name_ci text_pattern_ops);
CREATE INDEX series_modality ON series (modality);
`,
  },
  {
    version: 3,
    description: 'project per resource (access lists), resource labels',
    // Project per resource (per-project access lists, docs/security.md): instances carry the
    // de-identification project they went through (NULL: a plain intake); patients, studies and
    // series are linked to the project of every instance under them ('' for none), so a scoped
    // query is one indexed EXISTS per row. Data stored before this version has no known project.
    // Labels (Orthanc's /labels) per resource. Link rows are removed with their resource.
    sql: `
ALTER TABLE instances ADD COLUMN project TEXT;
CREATE INDEX instances_project ON instances (project);
CREATE TABLE resource_projects (
  resource_level TEXT NOT NULL,
  resource_pk BIGINT NOT NULL,
  project TEXT NOT NULL,
  PRIMARY KEY (resource_level, resource_pk, project)
);
CREATE INDEX resource_projects_project ON resource_projects (project, resource_level);
INSERT INTO resource_projects (resource_level, resource_pk, project) SELECT 'patient', pk, '' FROM patients;
INSERT INTO resource_projects (resource_level, resource_pk, project) SELECT 'study', pk, '' FROM studies;
INSERT INTO resource_projects (resource_level, resource_pk, project) SELECT 'series', pk, '' FROM series;
CREATE TABLE resource_labels (
  resource_level TEXT NOT NULL,
  resource_pk BIGINT NOT NULL,
  label TEXT NOT NULL,
  PRIMARY KEY (resource_level, resource_pk, label)
);
CREATE INDEX resource_labels_label ON resource_labels (label);
`,
  },
];

/** Applies pending migrations under an advisory lock, so concurrent starters apply each once. */
export async function migratePostgres(db: PostgresDb): Promise<void> {
  const client = await db.pool.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${db.opts.schema}`);
    await client.query(`SET search_path TO ${db.opts.schema}`);
    await client.query('BEGIN');
    // Any constant works as long as only the index's migrator uses it; hashtext keeps it per schema.
    await client.query("SELECT pg_advisory_xact_lock(hashtext('dicomgate-index-' || current_schema()))");
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)');
    const done = new Set((await client.query('SELECT version FROM schema_migrations')).rows.map((r: { version: number }) => r.version));
    for (const m of PG_INDEX_MIGRATIONS) {
      if (done.has(m.version)) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version, description, applied_at) VALUES ($1, $2, $3)', [m.version, m.description, new Date().toISOString()]);
    }
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}
