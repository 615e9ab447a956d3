// De-identifies one input (a file path or bytes from a ZIP) and writes the result under the output
// folder as <pseudonymous PatientID>/<Study UID>/<Series UID>/<SOP Instance UID>.dcm: every name in
// the output tree is a pseudonym or a new UID, never an input name.
import { closeSync, mkdirSync, openSync, renameSync, rmSync, writev } from 'node:fs';
import { join } from 'node:path';
import { looksLikeDicom } from '../../dicom/part10.ts';
import { deidentifyPart10 } from '../../deid/deidentify-part10.ts';
import type { AttributeChange } from '../../deid/outcome.ts';
import type { Project } from '../../deid/project.ts';
import type { Pseudonymizer } from '../../deid/pseudonymizer.ts';
import { InputBuffers } from './_deid-input-buffers.ts';

export type FileResult =
  | { readonly kind: 'deidentified'; readonly output: string | undefined; readonly bytes: number; readonly changes?: readonly AttributeChange[] }
  | { readonly kind: 'quarantined' | 'rejected'; readonly reason: string; readonly detail: string }
  | { readonly kind: 'skipped'; readonly reason: 'not-dicom' };

export interface FileJob {
  readonly project: Project;
  readonly pseudonymizer: Pseudonymizer;
  readonly outDir: string;
  readonly dryRun: boolean;
  /** Called when this file's output write starts (true) and ends (false), for the runner's batching. */
  readonly onWrite?: (started: boolean) => void;
}

const SAFE_NAME = /[^A-Za-z0-9._-]/g;
// Folders this job already created (per job: another run may have deleted them since).
const madeDirs = new WeakMap<FileJob, Set<string>>();

// One pool per thread: a worker thread has its own.
const inputBuffers = new InputBuffers();

export async function deidFile(input: { path: string } | { data: Uint8Array }, job: FileJob): Promise<FileResult> {
  if (!('path' in input)) return deidBytes(input.data, job);
  const { data, buffer } = await inputBuffers.read(input.path);
  try {
    return await deidBytes(data, job);
  } finally {
    // The output is written (or dropped) by now; nothing keeps a view into the buffer.
    inputBuffers.release(buffer);
  }
}

async function deidBytes(buf: Uint8Array, job: FileJob): Promise<FileResult> {
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
  job.onWrite?.(true);
  try {
    await writeChunks(output, outcome.chunks, outcome.durable);
  } finally {
    job.onWrite?.(false);
  }
  return { kind: 'deidentified', output, bytes };
}

let tempSeq = 0;

/**
 * Writes the chunks with writev: most of them are views into the input, so nothing is copied. Only the
 * writev runs on libuv's thread pool: the kernel's copying into the page cache (most of the cost of a
 * de-identified CT slice) overlaps with the next files' parsing on the main thread. Creating, closing
 * and renaming are synchronous: each is a short system call, cheaper than a thread-pool round trip
 * (submission, a pool thread's wake-up, completion), and on the main thread file creations in one
 * folder never run concurrently (with 16 pool threads creating files in one folder, the others spun on
 * its lock while one scanned for a free inode: `rwsem_spin_on_owner` was up to 15 % of a run's CPU
 * samples on the benchmark VM's journal-less ext4, which skips inodes freed in the last minutes).
 * The file goes to a temporary name renamed into place (after `durable`, the flush of its mappings),
 * so two inputs with the same SOP Instance UID
 * (one instance in two transfer syntaxes) in flight at once never interleave in one file, and an
 * interrupted run leaves no partial file.
 */
async function writeChunks(path: string, chunks: readonly Buffer[], durable: Promise<void> | undefined): Promise<void> {
  const temp = `${path}.${process.pid}-${++tempSeq}.tmp`;
  const fd = openSync(temp, 'wx');
  try {
    try {
      await writeAll(fd, chunks);
    } finally {
      closeSync(fd);
    }
    // The output appears under its name only once the key database holds its mappings durably: a
    // crash or power loss before that leaves at most a temporary file, never a released file whose
    // UIDs the key database does not know.
    if (durable) await durable;
    renameSync(temp, path);
  } catch (e) {
    rmSync(temp, { force: true });
    throw e;
  }
}

function writevOnce(fd: number, chunks: readonly Buffer[]): Promise<number> {
  return new Promise((resolve, reject) => writev(fd, chunks as Buffer[], (err, n) => (err ? reject(err) : resolve(n))));
}

async function writeAll(fd: number, chunks: readonly Buffer[]): Promise<void> {
  let total = chunks.reduce((n, c) => n + c.length, 0);
  let rest: readonly Buffer[] = chunks;
  // writev may write less than asked (and takes at most IOV_MAX buffers): go on from where it stopped.
  while (total > 0) {
    let n = await writevOnce(fd, rest.slice(0, 1024));
    total -= n;
    const next: Buffer[] = [];
    for (const c of rest) {
      if (n >= c.length) n -= c.length;
      else {
        next.push(n > 0 ? c.subarray(n) : c);
        n = 0;
      }
    }
    rest = next;
  }
}
