// Folder-watch intake: a drop folder (often a network share) that `serve` polls. It polls rather
// than relying on fs.watch, which misses changes on SMB/NFS mounts. A file is taken only once its
// size and mtime have stayed the same for `settleMs`, so a half-copied file is never read. It stays
// where it is until its instance is durably stored (or refused); only then is it moved to
// `.done/<date>/` (or deleted), refused files to `.failed/<date>/` with a `.json` note beside them.
// A crash in between leaves the file in place: it is taken again after the restart, stored as a
// duplicate (keep-first) and moved then, so nothing is lost and nothing is stored twice.
//
// File names in a clinical drop folder may carry PHI (patient names, MRNs), so logs name a file only
// by a short hash of its path relative to the folder (the same hash is in its .failed note) and by
// its depth; counts and error codes carry the rest.
import { createHash } from 'node:crypto';
import { mkdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import type { ErrorCode } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { isZip, walk, zipEntries, type ImportInput } from './import-files.ts';

export type WatchIntakeResult =
  | { status: 'stored' | 'duplicate' | 'replaced' | 'quarantined' | 'skipped' }
  | { status: 'rejected'; code: ErrorCode; reason: string; retryable: boolean };

/**
 * Hands files (paths) or ZIP entries (bytes) to the archive, one result per input in order: the
 * gateway when the folder is bound to a project, plain ingest otherwise (wired in main.ts).
 */
export type WatchIntake = (inputs: readonly ({ path: string } | { data: Uint8Array })[]) => Promise<WatchIntakeResult[]>;

export interface FolderWatchOptions {
  path: string;
  pollMs: number;
  settleMs: number;
  after: 'move' | 'delete';
  /** How logs name this folder (its config position, e.g. "watchFolders[0]"). */
  name: string;
  /** Files handed to the intake at once (one group commit for plain ingest; default 16). */
  batchSize?: number;
}

export interface WatchPollSummary {
  taken: number;
  stored: number;
  duplicate: number;
  quarantined: number;
  skipped: number;
  failed: number;
  /** Left in place after a retryable refusal (storage or index unavailable); taken again next poll. */
  retrying: number;
}

/** Sub-folders never entered: the watcher's own .done/.failed and hidden folders of copy tools. */
const isHiddenDir = (name: string) => name.startsWith('.');

type Seen = { size: number; mtimeMs: number; since: number };
type Failure = { entry?: string; code: ErrorCode; message: string };

export class FolderWatcher {
  readonly #o: Required<FolderWatchOptions>;
  readonly #intake: WatchIntake;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #seen = new Map<string, Seen>();
  #timer: NodeJS.Timeout | undefined;
  #current: Promise<unknown> | undefined;
  #stopping = false;

  constructor(opts: FolderWatchOptions, deps: { intake: WatchIntake; log: Logger; now?: () => number }) {
    this.#o = { batchSize: 16, ...opts };
    this.#intake = deps.intake;
    this.#log = deps.log;
    this.#now = deps.now ?? Date.now;
  }

  /** Creates the folder if missing and starts polling (the first poll at once). */
  async start(): Promise<void> {
    await mkdir(this.#o.path, { recursive: true });
    this.#schedule(0);
  }

  /** Stops polling; a poll under way finishes the file it holds and stops before the next one. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#timer);
    await this.#current;
  }

  #schedule(ms: number): void {
    if (this.#stopping) return;
    this.#timer = setTimeout(() => {
      this.#current = this.poll()
        .catch((e: unknown) => this.#log.error('watch folder poll failed', { folder: this.#o.name, error: (e as NodeJS.ErrnoException).code ?? 'error' }))
        .finally(() => this.#schedule(this.#o.pollMs));
    }, ms);
    this.#timer.unref?.();
  }

  /** One pass over the folder: takes every settled file. Public for tests. */
  async poll(): Promise<WatchPollSummary> {
    const sum: WatchPollSummary = { taken: 0, stored: 0, duplicate: 0, quarantined: 0, skipped: 0, failed: 0, retrying: 0 };
    const settled = await this.#settledFiles();
    const plain: string[] = [];
    for (const file of settled) {
      if (this.#stopping) break;
      const name = basename(file);
      // Not an instance: a DICOMDIR only indexes files next to it, so it goes with them.
      if (name.toUpperCase() === 'DICOMDIR') {
        await this.#finish(file, [], [], sum);
        continue;
      }
      if (await isZip(file)) await this.#takeZip(file, sum);
      else plain.push(file);
    }
    for (let i = 0; i < plain.length && !this.#stopping; i += this.#o.batchSize) {
      const batch = plain.slice(i, i + this.#o.batchSize);
      const results = await this.#intake(batch.map((path) => ({ path })));
      for (const [n, file] of batch.entries()) await this.#finish(file, [results[n]!], [], sum);
    }
    if (sum.taken > 0 || sum.retrying > 0) this.#log.info('watch folder poll', { folder: this.#o.name, ...sum });
    return sum;
  }

  /** Files whose size and mtime have not changed for settleMs (first sight starts the clock). */
  async #settledFiles(): Promise<string[]> {
    const now = this.#now();
    const present = new Set<string>();
    const out: string[] = [];
    for await (const file of walk(this.#o.path, new Set(), isHiddenDir)) {
      // Hidden files are copy tools' work in progress (rsync ".name.XXXX", Samba temp files): never touched.
      if (basename(file).startsWith('.')) continue;
      const st = await stat(file).catch(() => undefined);
      if (!st) continue;
      present.add(file);
      const was = this.#seen.get(file);
      if (!was || was.size !== st.size || was.mtimeMs !== st.mtimeMs) {
        this.#seen.set(file, { size: st.size, mtimeMs: st.mtimeMs, since: now });
        continue;
      }
      if (now - was.since >= this.#o.settleMs) out.push(file);
    }
    for (const f of this.#seen.keys()) if (!present.has(f)) this.#seen.delete(f);
    return out;
  }

  /** A ZIP is one unit: done when every entry is, failed when any entry is refused for good. */
  async #takeZip(file: string, sum: WatchPollSummary): Promise<void> {
    const results: WatchIntakeResult[] = [];
    const failures: Failure[] = [];
    let batch: Exclude<ImportInput, { error: unknown }>[] = [];
    const flush = async () => {
      const rs = await this.#intake(batch.map((x) => ('data' in x ? { data: x.data } : { path: x.path })));
      rs.forEach((r, i) => {
        results.push(r);
        if (r.status === 'rejected' && !r.retryable) failures.push({ entry: entryName(batch[i]!.label), code: r.code, message: r.reason });
      });
      batch = [];
    };
    for await (const x of zipEntries(file, '')) {
      if ('error' in x) failures.push({ ...(x.label.includes('!') ? { entry: entryName(x.label) } : {}), code: x.error.code, message: x.error.message });
      else batch.push(x);
      if (batch.length >= this.#o.batchSize) await flush();
    }
    if (batch.length > 0) await flush();
    await this.#finish(file, results, failures, sum);
  }

  /** Tallies a file's results and moves (or deletes) it, unless a retryable refusal keeps it in place. */
  async #finish(file: string, results: readonly WatchIntakeResult[], failures: Failure[], sum: WatchPollSummary): Promise<void> {
    const rel = relative(this.#o.path, file);
    if (results.some((r) => r.status === 'rejected' && r.retryable)) {
      sum.retrying++;
      const r = results.find((x) => x.status === 'rejected' && x.retryable) as Extract<WatchIntakeResult, { status: 'rejected' }>;
      this.#log.warn('watch folder file kept for retry', { folder: this.#o.name, file: pathHash(rel), code: r.code });
      return;
    }
    for (const r of results) {
      if (r.status === 'rejected') {
        // A ZIP's refused entries are already listed, by entry name.
        if (failures.length === 0) failures.push({ code: r.code, message: r.reason });
      } else if (r.status === 'replaced') sum.stored++;
      else sum[r.status]++;
    }
    sum.taken++;
    this.#seen.delete(file);
    try {
      if (failures.length > 0) {
        sum.failed++;
        await this.#moveToFailed(file, rel, failures);
        this.#log.warn('watch folder file failed', { folder: this.#o.name, file: pathHash(rel), depth: rel.split(sep).length, codes: [...new Set(failures.map((f) => f.code))] });
      } else if (this.#o.after === 'delete') await unlink(file);
      else await moveInto(file, join(this.#o.path, '.done', day(this.#now()), rel));
    } catch (e) {
      // Stored but not moved: taken again next poll as a duplicate, then moved.
      this.#log.error('watch folder cannot move a taken file', { folder: this.#o.name, file: pathHash(rel), error: (e as NodeJS.ErrnoException).code ?? 'error' });
    }
  }

  async #moveToFailed(file: string, rel: string, failures: Failure[]): Promise<void> {
    const target = await moveInto(file, join(this.#o.path, '.failed', day(this.#now()), rel));
    // Error codes and messages only (messages are free of tag values); the note sits beside the
    // original on the identifiable side, so the entry names of a ZIP may appear in it.
    const note = { at: new Date(this.#now()).toISOString(), file: pathHash(rel), errors: failures };
    await writeFile(`${target}.json`, `${JSON.stringify(note, null, 2)}\n`);
  }
}

/** Moves `file` to `target`, never over an existing file (a second drop of the same name gets ".1", ".2", ...). */
async function moveInto(file: string, target: string): Promise<string> {
  await mkdir(dirname(target), { recursive: true });
  let to = target;
  for (let n = 1; await exists(to); n++) to = `${target}.${n}`;
  await rename(file, to);
  return to;
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}

/** How logs name a file: 12 hex digits of the SHA-256 of its path relative to the watch folder. */
export function pathHash(rel: string): string {
  return createHash('sha256').update(rel).digest('hex').slice(0, 12);
}

function entryName(label: string): string {
  return label.slice(label.indexOf('!') + 1);
}

function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
