// De-identifies one input (a file path or bytes from a ZIP) and writes the result under the output
// folder as <pseudonymous PatientID>/<Study UID>/<Series UID>/<SOP Instance UID>.dcm: every name in
// the output tree is a pseudonym or a new UID, never an input name.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { looksLikeDicom } from '../../dicom/part10.ts';
import { deidentifyPart10 } from '../../deid/deidentify-part10.ts';
import type { AttributeChange } from '../../deid/outcome.ts';
import type { Project } from '../../deid/project.ts';
import type { Pseudonymizer } from '../../deid/pseudonymizer.ts';

export type FileResult =
  | { readonly kind: 'deidentified'; readonly output: string | undefined; readonly bytes: number; readonly changes?: readonly AttributeChange[] }
  | { readonly kind: 'quarantined' | 'rejected'; readonly reason: string; readonly detail: string }
  | { readonly kind: 'skipped'; readonly reason: 'not-dicom' };

export interface FileJob {
  readonly project: Project;
  readonly pseudonymizer: Pseudonymizer;
  readonly outDir: string;
  readonly dryRun: boolean;
}

const SAFE_NAME = /[^A-Za-z0-9._-]/g;
// Folders this job already created (per job: another run may have deleted them since).
const madeDirs = new WeakMap<FileJob, Set<string>>();

export async function deidFile(input: { path: string } | { data: Uint8Array }, job: FileJob): Promise<FileResult> {
  const buf = 'path' in input ? readFileSync(input.path) : input.data;
  if (!looksLikeDicom(buf)) return { kind: 'skipped', reason: 'not-dicom' };
  const outcome = await deidentifyPart10(buf, job.project, job.pseudonymizer, { explain: job.dryRun });
  if (outcome.kind !== 'deidentified') return outcome;
  const bytes = outcome.chunks.reduce((n, c) => n + c.length, 0);
  if (job.dryRun) return { kind: 'deidentified', output: undefined, bytes, ...(outcome.changes ? { changes: outcome.changes } : {}) };
  const safeId = outcome.pseudonymousPatientId.replace(SAFE_NAME, '_');
  const patientDir = safeId === '' ? 'UNKNOWN' : safeId;
  const dir = join(job.outDir, patientDir, outcome.studyInstanceUid, outcome.seriesInstanceUid);
  const made = madeDirs.get(job) ?? new Set<string>();
  madeDirs.set(job, made);
  if (!made.has(dir)) {
    mkdirSync(dir, { recursive: true });
    made.add(dir);
  }
  const output = join(dir, `${outcome.sopInstanceUid}.dcm`);
  writeFileSync(output, outcome.chunks.length === 1 ? outcome.chunks[0] : Buffer.concat(outcome.chunks));
  return { kind: 'deidentified', output, bytes };
}
