// The key database port: pseudonyms, date shifts and UID map, per project namespace.
// Two implementations (sqlite/, postgres/) pass one contract suite (test/pseudonyms/contract.ts).
// The originals live here and only here; nothing in this module logs a key.
import type { PatientKey, PatientPseudonym, PseudonymPolicy } from '../deid/pseudonymizer.ts';

/** A patient's complete key record, for the honest broker. */
export interface PatientRecord {
  readonly project: string;
  readonly original: PatientKey;
  readonly pseudonym: PatientPseudonym;
  /** ISO timestamp of creation. */
  readonly createdAt: string;
}

export interface ImportResult {
  readonly imported: number;
  /** Rows whose original or pseudonym already existed with the same values. */
  readonly unchanged: number;
  /** Rows that contradict an existing mapping; never overwritten. */
  readonly conflicts: number;
}

export interface PseudonymStore {
  /** Applies pending migrations; idempotent. */
  migrate(): Promise<void>;
  /** Transactional get-or-create: concurrent callers for one new patient all get the same pseudonym. */
  getOrCreatePatient(project: string, key: PatientKey, policy: PseudonymPolicy): Promise<PatientPseudonym>;
  /**
   * Replacement UIDs for `uids`, creating (and durably storing) the missing ones, linked to the
   * patient so deletePatient removes them too. Concurrent callers agree on one replacement.
   */
  mapUids(project: string, key: PatientKey, uids: readonly string[], policy: PseudonymPolicy): Promise<Map<string, string>>;
  /** Several objects' patients and UIDs in one transaction (one commit, one fsync). */
  resolveBatch(project: string, requests: readonly BatchRequest[], policy: PseudonymPolicy): Promise<BatchResult[]>;
  /**
   * resolveBatch answered as soon as the transaction committed, before its commit is on disk:
   * `durable` settles when it is (rejects with the store's error if the flush fails). For a caller
   * that holds back what uses the answer (the deid command's rename into place) until then, so the
   * flush overlaps with its work. Stores whose commit is durable when it returns need not offer it.
   */
  resolveBatchEarly?(project: string, requests: readonly BatchRequest[], policy: PseudonymPolicy): Promise<EarlyBatchResult>;
  findByOriginal(project: string, key: PatientKey): Promise<PatientRecord | undefined>;
  findByPseudonym(project: string, pseudonymousPatientId: string): Promise<PatientRecord | undefined>;
  /** original UID of a replacement UID (honest broker). */
  findOriginalUid(project: string, replacement: string): Promise<string | undefined>;
  listPatients(project: string): Promise<PatientRecord[]>;
  /** Adds mappings made elsewhere (CSV, CTP lookup table); existing ones win. */
  importPatients(project: string, rows: readonly ImportRow[], policy: PseudonymPolicy): Promise<ImportResult>;
  /** Deletes a patient's keys (pseudonym, date shift, UIDs). Returns false when unknown. */
  deletePatient(project: string, key: PatientKey): Promise<boolean>;
  close(): Promise<void>;
}

export interface ImportRow {
  readonly original: PatientKey;
  readonly patientId: string;
  /** Defaults to the policy's name pattern. */
  readonly patientName?: string;
  /** Drawn from the policy's range when absent. */
  readonly dateShiftDays?: number;
}

export interface BatchRequest {
  readonly key: PatientKey;
  readonly uids: readonly string[];
}

export interface BatchResult {
  readonly pseudonym: PatientPseudonym;
  readonly uids: Map<string, string>;
}

export interface EarlyBatchResult {
  readonly results: BatchResult[];
  /** Settles when the commit that made `results` is durable. */
  readonly durable: Promise<void>;
}
