// Versioned schema of the SQLite key database. Append only: a released migration never changes.
export const SQLITE_MIGRATIONS: readonly string[] = [
  // 1: projects (namespaces), patients, UID map
  `CREATE TABLE projects (
     id INTEGER PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     next_seq INTEGER NOT NULL DEFAULT 1
   );
   CREATE TABLE patients (
     id INTEGER PRIMARY KEY,
     project_id INTEGER NOT NULL REFERENCES projects(id),
     original_id TEXT NOT NULL,
     original_issuer TEXT NOT NULL,
     pseudo_id TEXT NOT NULL,
     pseudo_name TEXT NOT NULL,
     date_shift_days INTEGER NOT NULL,
     created_at TEXT NOT NULL,
     UNIQUE (project_id, original_id, original_issuer),
     UNIQUE (project_id, pseudo_id)
   );
   CREATE TABLE uids (
     project_id INTEGER NOT NULL REFERENCES projects(id),
     original TEXT NOT NULL,
     replacement TEXT NOT NULL,
     patient_id INTEGER REFERENCES patients(id) ON DELETE CASCADE,
     PRIMARY KEY (project_id, original)
   ) WITHOUT ROWID;
   CREATE INDEX uids_replacement ON uids (project_id, replacement);
   CREATE INDEX uids_patient ON uids (patient_id);`,
];
