// The port through which the pure engine obtains pseudonyms, date shifts and replacement UIDs.
// src/pseudonyms/ implements it over the key database. The engine gathers everything it needs in
// one walk (planDeid) and asks once per object, so a database round trip costs one call, not one per UID.

/** What identifies a patient across studies: PatientID qualified by IssuerOfPatientID (PS3.3 C.7.1.1). */
export interface PatientKey {
  readonly patientId: string;
  /** IssuerOfPatientID, '' when absent. */
  readonly issuer: string;
}

export interface PatientPseudonym {
  readonly patientId: string;
  readonly patientName: string;
  /** Days added to every date of this patient; drawn once per patient and project, then kept. */
  readonly dateShiftDays: number;
}

export interface PseudonymRequest {
  readonly patient: PatientKey;
  /** Distinct UIDs the profile replaces in this object. */
  readonly uids: readonly string[];
}

export interface PseudonymMapping {
  readonly patient: PatientPseudonym;
  /** original -> replacement for every UID of the request. */
  readonly uids: ReadonlyMap<string, string>;
  /**
   * Present only from a pseudonymizer made to answer early (StorePseudonymizer's `earlyAnswers`): the
   * mapping is committed but durable only when this settles; nothing using it may be published before.
   */
  readonly durable?: Promise<void>;
}

export interface Pseudonymizer {
  /** Get-or-create; the mapping is durable when the promise resolves (or, with `durable`, when that does). */
  resolve(req: PseudonymRequest): Promise<PseudonymMapping>;
}

/** How a project makes new pseudonyms (part of the project config). */
export interface PseudonymPolicy {
  /** Pattern of the pseudonymous PatientID: literal text with {prefix}, {seq:06} (zero-padded counter) or {random:10}. */
  readonly idPattern: string;
  /** Pattern of the pseudonymous PatientName, same placeholders plus {id} (the new PatientID). */
  readonly namePattern: string;
  readonly prefix: string;
  /** Inclusive range the per-patient date shift is drawn from, in days. */
  readonly dateShiftDays: readonly [number, number];
  /** Root for new UIDs ("1.2.826.0.1.3680043.10.xxx"); undefined: 2.25.<UUID as decimal> (PS3.5 B.2). */
  readonly uidRoot: string | undefined;
}
