// Versioned schema of the SQLite index. Append a migration; never edit one that has shipped.
// A PostgreSQL implementation keeps the same tables and columns (test/index checks the column set
// against MAIN_TAGS), with BIGINT identity keys instead of INTEGER PRIMARY KEY.
import type { SqliteDb } from './sqlite-db.ts';

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'patients, studies, series, instances, changes',
    sql: `
CREATE TABLE patients (
  pk INTEGER PRIMARY KEY,
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
  pk INTEGER PRIMARY KEY,
  public_id TEXT NOT NULL UNIQUE,
  patient_pk INTEGER NOT NULL REFERENCES patients (pk),
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
  pk INTEGER PRIMARY KEY,
  public_id TEXT NOT NULL UNIQUE,
  study_pk INTEGER NOT NULL REFERENCES studies (pk),
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
  pk INTEGER PRIMARY KEY,
  public_id TEXT NOT NULL UNIQUE,
  series_pk INTEGER NOT NULL REFERENCES series (pk),
  sop_instance_uid TEXT NOT NULL UNIQUE,
  sop_class_uid TEXT, instance_number TEXT, image_position_patient TEXT, number_of_frames TEXT,
  acquisition_number TEXT, instance_creation_date TEXT, instance_creation_time TEXT,
  content_date TEXT, content_time TEXT, temporal_position_identifier TEXT, image_index TEXT,
  image_rows TEXT, image_columns TEXT,
  blob_key TEXT NOT NULL,
  file_size INTEGER NOT NULL,
  transfer_syntax_uid TEXT NOT NULL,
  received_at TEXT NOT NULL,
  transport TEXT NOT NULL, remote_ae TEXT, called_ae TEXT, remote_host TEXT
);
CREATE INDEX instances_series_pk ON instances (series_pk);
CREATE INDEX instances_blob_key ON instances (blob_key);

-- AUTOINCREMENT: a seq is never reused after deletes, so /changes consumers never miss one.
CREATE TABLE changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  change_type TEXT NOT NULL,
  resource_level TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  changed_at TEXT NOT NULL
);
`,
  },
  {
    version: 2,
    description: 'query indexes: case-folded patient name, series modality',
    // Case-insensitive PN matching (fuzzymatching, CaseSensitive=false) reads patient_name_ci, which
    // had no index: every study was scanned. GLOB 'AB*' on a BINARY-collated indexed column becomes
    // an index range (EXPLAIN QUERY PLAN: patient_name>? AND patient_name<?), so prefix wildcards
    // need nothing more. Both tables gain a row once per patient / series, not per instance.
    sql: `
CREATE INDEX patients_patient_name_ci ON patients (patient_name_ci);
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
  resource_pk INTEGER NOT NULL,
  project TEXT NOT NULL,
  PRIMARY KEY (resource_level, resource_pk, project)
);
CREATE INDEX resource_projects_project ON resource_projects (project, resource_level);
INSERT INTO resource_projects (resource_level, resource_pk, project) SELECT 'patient', pk, '' FROM patients;
INSERT INTO resource_projects (resource_level, resource_pk, project) SELECT 'study', pk, '' FROM studies;
INSERT INTO resource_projects (resource_level, resource_pk, project) SELECT 'series', pk, '' FROM series;
CREATE TABLE resource_labels (
  resource_level TEXT NOT NULL,
  resource_pk INTEGER NOT NULL,
  label TEXT NOT NULL,
  PRIMARY KEY (resource_level, resource_pk, label)
);
CREATE INDEX resource_labels_label ON resource_labels (label);
`,
  },
];

/**
 * Applies pending migrations, each in its own IMMEDIATE transaction that re-checks the version,
 * so two processes opening the same new database at once do not both apply one. Returns the version.
 */
export function migrate(db: SqliteDb): number {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)');
  for (const m of MIGRATIONS) {
    db.exec('BEGIN IMMEDIATE');
    try {
      const done = db.querySync('SELECT version FROM schema_migrations WHERE version = ?', [m.version]).length > 0;
      if (!done) {
        db.exec(m.sql);
        db.querySync('INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?) RETURNING version', [
          m.version, m.description, new Date().toISOString(),
        ]);
      }
      db.exec('COMMIT');
    } catch (e) {
      db.exec('ROLLBACK');
      throw e;
    }
  }
  const row = db.querySync<{ v: number }>('SELECT MAX(version) AS v FROM schema_migrations')[0];
  return row?.v ?? 0;
}
