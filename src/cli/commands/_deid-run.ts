// Runs `dicomgate deid`: enumerates inputs, fans them out to worker threads (or runs inline with
// workers = 0), answers the workers' pseudonym requests from the key database, and tallies results.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { isAppError } from '../../core/errors.ts';
import { PACKAGE_ROOT } from '../../core/package-root.ts';
import { resolveProject } from '../../deid/project.ts';
import type { PatientKey, PseudonymMapping, PseudonymRequest, Pseudonymizer } from '../../deid/pseudonymizer.ts';
import type { PseudonymStore } from '../../pseudonyms/pseudonym-store.ts';
import { StorePseudonymizer } from '../../pseudonyms/store-pseudonymizer.ts';
import { deidFile, type FileJob, type FileResult } from './_deid-file.ts';
import { deidInputs, type DeidInput } from './_deid-inputs.ts';
import type { FromWorker, ToWorker, WorkerInit } from './_deid-protocol.ts';

export interface DeidRunOptions {
  readonly inputs: readonly string[];
  readonly outDir: string;
  readonly projectName: string;
  readonly projects: Readonly<Record<string, unknown>>;
  readonly store: PseudonymStore;
  readonly dryRun: boolean;
  /** 0 runs in this thread. Default: cores - 1 (max 8), none on 2 cores. */
  readonly workers?: number;
  readonly onResult?: (label: string, r: FileResult) => void;
}

export interface DeidSummary {
  readonly files: number;
  readonly deidentified: number;
  readonly quarantined: number;
  readonly rejected: number;
  readonly skipped: number;
  readonly failed: number;
  readonly bytesOut: number;
  readonly seconds: number;
  /** reason -> count, for quarantined and rejected files. */
  readonly reasons: Readonly<Record<string, number>>;
  /** Patients seen in this run (original keys, for --mapping-csv only; never printed). */
  readonly patients: readonly PatientKey[];
}

/** Records which patients passed through (for the mapping CSV) in front of the real pseudonymizer. */
class RecordingPseudonymizer implements Pseudonymizer {
  readonly seen = new Map<string, PatientKey>();
  constructor(private readonly inner: Pseudonymizer) {}
  resolve(req: PseudonymRequest): Promise<PseudonymMapping> {
    this.seen.set(`${req.patient.patientId}\u0000${req.patient.issuer}`, req.patient);
    return this.inner.resolve(req);
  }
}

/** --dry-run must not create keys: stand-in values, never written anywhere. */
class DryRunPseudonymizer implements Pseudonymizer {
  async resolve(req: PseudonymRequest): Promise<PseudonymMapping> {
    return { patient: { patientId: 'DRYRUN', patientName: 'DRYRUN^', dateShiftDays: 0 }, uids: new Map(req.uids.map((u) => [u, '2.25.0'])) };
  }
}

const IN_FLIGHT_PER_WORKER = 8;
// From the build the bundled worker (dist/cli/commands, see scripts/build.mjs) runs as is: this module
// may sit in a shared chunk there, so the path comes from the package root. From the sources a boot file
// registers tsx first, since Node 20 workers do not inherit the parent's loader hooks.
const WORKER_ENTRY = import.meta.url.endsWith('.js')
  ? pathToFileURL(join(PACKAGE_ROOT, 'dist', 'cli', 'commands', '_deid-worker.js'))
  : new URL('./_deid-worker-boot.mjs', import.meta.url);
const INLINE_LANES = 16;
/** Pseudonym requests wait this long (or until every lane waits) so that one key database commit serves them all. */
const BATCH_WINDOW_MS = 10;

/**
 * Worker threads pay off from 4 cores: on 2 cores the main thread (reading, key database, writing)
 * competes with them and one thread with 16 files in flight measured faster (440 vs 180-370 files/s;
 * again on 2026-11-22 with reads and writes on libuv's pool, 300 slices: 0 workers 335 files/s, 1
 * worker 171-199, 2 workers 106-145; each worker also pays the TypeScript loader's start-up). From the
 * build (dist/, no loader), 1000 slices, same day, alternated: 0 workers 0.87-0.92 s (0.81-0.84 s user
 * CPU), 1 worker 1.13-1.16 s (1.02-1.07), 2 workers 1.05-1.07 s (1.15-1.24): each isolate compiles the
 * same hot functions again (TurboFan, ~0.3 s of CPU per isolate). (1 worker had taken 2.9-3.3 s before
 * the batch target was capped to the 8 files it holds: every batch waited out the window.)
 */
function defaultWorkers(): number {
  const cores = availableParallelism();
  return cores <= 2 ? 0 : Math.min(cores - 1, 8);
}

/**
 * TurboFan's inlining budget for this process, lowered before the per-file code gets hot. A `deid` run
 * is short-lived and its hot functions are large (deidentify, the rule walk, the encoder): with V8's
 * default (920 bytes of inlined bytecode per function) compiling them took ~0.36 s of CPU per 1000-slice
 * run, about 30 % of the run's CPU. Measured from dist/, runs alternated, medians: 1000 slices, compiler
 * threads 0.36 -> 0.27 s, the run's CPU 1.25 -> 1.11 s, wall 0.77 -> 0.69 s (4 runs each); the series
 * 4 times over (4000 files), CPU 3.62 -> 3.40 s, main thread 2.34 -> 2.18 s (3 each), so the less inlined
 * code is no slower once warm. (A budget of 0 compiled least but its main thread was slower at 4000.)
 * Set at run time, which V8 allows for this flag (read when a function is optimized);
 * DICOMGATE_V8_INLINE=0 leaves V8's default.
 */
function tuneCompiler(): void {
  if (process.env.DICOMGATE_V8_INLINE === '0') return;
  setFlagsFromString('--max-inlined-bytecode-size-cumulative=300');
}

export async function runDeid(o: DeidRunOptions): Promise<DeidSummary> {
  tuneCompiler();
  const started = process.hrtime.bigint();
  const project = resolveProject(o.projectName, o.projects);
  const workers = o.workers ?? defaultWorkers();
  // Inline lanes that may still ask for pseudonyms: not finished, not waiting for an output write and
  // not waiting for a batch already sent to the key database (a lane asks again only after those).
  // A batch is committed once all of them asked.
  let lanesOpen = INLINE_LANES;
  let lanesWriting = 0;
  const store: StorePseudonymizer | undefined = o.dryRun
    ? undefined
    : new StorePseudonymizer(o.store, project.name, project.policy, {
        batchWindowMs: BATCH_WINDOW_MS,
        // Files are encoded and written while their commit is flushed; _deid-file renames after it.
        earlyAnswers: true,
        // With workers: no more than the files they hold can ask at once (1 worker: 8, not 16).
        batchTarget: workers === 0 ? (): number => lanesOpen - lanesWriting - (store?.committing ?? 0) : Math.min(INLINE_LANES, workers * IN_FLIGHT_PER_WORKER),
      });
  const pseudonymizer = new RecordingPseudonymizer(store ?? new DryRunPseudonymizer());
  const tally = { files: 0, deidentified: 0, quarantined: 0, rejected: 0, skipped: 0, failed: 0, bytesOut: 0 };
  const reasons: Record<string, number> = {};
  const record = (label: string, r: FileResult | { kind: 'failed'; message: string }): void => {
    tally.files++;
    if (r.kind === 'failed') {
      tally.failed++;
      reasons.failed = (reasons.failed ?? 0) + 1;
    } else {
      tally[r.kind]++;
      if (r.kind === 'deidentified') tally.bytesOut += r.bytes;
      if (r.kind === 'quarantined' || r.kind === 'rejected') reasons[`${r.kind}: ${r.reason}`] = (reasons[`${r.kind}: ${r.reason}`] ?? 0) + 1;
      o.onResult?.(label, r);
    }
  };

  if (workers === 0) {
    // Several files in flight even in one thread: their pseudonym requests share one transaction.
    const job: FileJob = {
      project,
      pseudonymizer,
      outDir: o.outDir,
      dryRun: o.dryRun,
      onWrite(started) {
        lanesWriting += started ? 1 : -1;
        if (started) store?.poke();
      },
    };
    const iterator = deidInputs(o.inputs)[Symbol.asyncIterator]();
    const lane = async (): Promise<void> => {
      try {
        for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
          const input = next.value;
          try {
            record(input.label, await deidFile('path' in input ? { path: input.path } : { data: input.data }, job));
          } catch (e) {
            if (isAppError(e, 'KEYS_UNAVAILABLE')) throw e;
            record(input.label, { kind: 'failed', message: (e as Error).message });
          }
        }
      } finally {
        lanesOpen--;
        store?.poke();
      }
    };
    await Promise.all(Array.from({ length: INLINE_LANES }, lane));
  } else {
    await runWithWorkers(o, workers, pseudonymizer, record);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { ...tally, seconds, reasons, patients: [...pseudonymizer.seen.values()] };
}

async function runWithWorkers(
  o: DeidRunOptions,
  count: number,
  pseudonymizer: Pseudonymizer,
  record: (label: string, r: FileResult | { kind: 'failed'; message: string }) => void,
): Promise<void> {
  const init: WorkerInit = { projectName: o.projectName, projects: o.projects, outDir: o.outDir, dryRun: o.dryRun };
  const labels = new Map<number, string>();
  const inputs = deidInputs(o.inputs)[Symbol.asyncIterator]();
  let nextId = 1;
  let exhausted = false;
  let fatal: unknown;

  const pool = Array.from({ length: count }, () => ({
    worker: new Worker(WORKER_ENTRY, { workerData: init }),
    inFlight: 0,
  }));

  await new Promise<void>((resolveAll, rejectAll) => {
    let feeding = false;
    const finishIfDone = (): void => {
      if (exhausted && pool.every((w) => w.inFlight === 0)) resolveAll();
    };
    // Keeps every worker IN_FLIGHT_PER_WORKER deep, so pseudonym round trips overlap with parsing.
    const feed = async (): Promise<void> => {
      if (feeding) return;
      feeding = true;
      try {
        for (;;) {
          const slot = pool.find((w) => w.inFlight < IN_FLIGHT_PER_WORKER);
          if (!slot || exhausted) break;
          const next = await inputs.next();
          if (next.done) {
            exhausted = true;
            break;
          }
          const input: DeidInput = next.value;
          const id = nextId++;
          labels.set(id, input.label);
          slot.inFlight++;
          const msg: ToWorker = 'path' in input ? { type: 'task', id, path: input.path } : { type: 'task', id, data: input.data };
          slot.worker.postMessage(msg);
        }
      } catch (e) {
        fatal = e;
        rejectAll(e);
        return;
      } finally {
        feeding = false;
      }
      finishIfDone();
    };

    for (const slot of pool) {
      slot.worker.on('error', (e) => rejectAll(e));
      slot.worker.on('message', (m: FromWorker) => {
        if (m.type === 'resolve') {
          // A worker publishes its output as soon as it has the answer: it gets it once durable.
          const durableAnswer = async (): Promise<PseudonymMapping> => {
            const r = await pseudonymizer.resolve(m.req);
            await r.durable;
            return r;
          };
          durableAnswer().then(
            (r) => slot.worker.postMessage({ type: 'resolved', rid: m.rid, patient: r.patient, uids: [...r.uids] } satisfies ToWorker),
            (e: unknown) => {
              // The key database failing is fatal for the run: nothing may be written without a mapping.
              fatal = e;
              slot.worker.postMessage({
                type: 'resolve-failed',
                rid: m.rid,
                code: isAppError(e) ? e.code : 'KEYS_UNAVAILABLE',
                detail: isAppError(e) ? (e.detail ?? '') : 'key database error',
              } satisfies ToWorker);
            },
          );
          return;
        }
        slot.inFlight--;
        const label = labels.get(m.id) ?? '?';
        labels.delete(m.id);
        record(label, m.type === 'done' ? m.result : { kind: 'failed', message: m.message });
        if (fatal) rejectAll(fatal);
        else void feed();
      });
    }
    void feed();
  }).finally(async () => {
    await Promise.all(pool.map((w) => w.worker.terminate()));
  });
}
