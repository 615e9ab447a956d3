// Filesystem BlobStore. Layout: <root>/ab/cd/<key>, where abcd are the key's first four hex digits,
// so 65,536 leaf folders share the load evenly and none grows without bound (10 M objects ≈ 150 per folder).
//
// Keys are random (128 bits), not content hashes:
// - the temp file must sit in the final folder (so rename() is atomic), and a streamed C-STORE's
//   content hash is only known after its last fragment, while a random key is known at open;
// - hashing costs CPU on the import hot path (about 1 s per 500 MB per core);
// - duplicates are decided by SOP Instance UID in the index, so content de-duplication buys nothing
//   and would make two index rows share one blob, which complicates deletes.
// A random key carries no patient data, so paths are safe to log.
//
// Streamed writes (open) take their keys' first four hex digits from a "current" leaf folder that
// changes every KEYS_PER_FOLDER keys: a fresh archive would otherwise create a new folder (mkdir and
// two directory fsyncs) for nearly every object, and commits landing in one folder share its
// directory fsync. Over time the folders still fill evenly (each holds a few runs, not a few files).
//
// Journal (<root>.journal beside the tree, one leaf folder per line): a writer opened with `{ journal: true }`
// (C-STORE) has its folder durably listed there before open() resolves, so its index row may be
// committed without a WAL sync (one disk flush per instance instead of two in a row); after a
// power loss that drops such commits, start-up recovery lists only the journal's folders and
// re-indexes the blobs it finds unreferenced (IngestService.recoverUnindexed). A folder leaves the
// journal once no writer in it is waiting for its index row and the index has synced (trimJournal).
// Streamed writes change folder every 128 keys, so the journal costs one small sync per 128.
import { close as fsClose, constants, createReadStream as fsCreateReadStream, fstat as fsFstat, open as fsOpen, read as fsRead } from 'node:fs';
import { copyFile, mkdir, open, readFile, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { AppError } from '../core/errors.ts';
import { STAGED_HEAD_BYTES, isBlobKey, type BlobSource, type BlobStore, type BlobWriter, type OpenOptions } from './blob-store.ts';
import { IoWorkers, SharedBuffers, type PinnedFile, type PinnedWrite, type SharedBuffer } from './io-workers.ts';

/** Prefix and suffix of staged files; never a valid key, so a crash leaves nothing that looks like a blob. */
const TEMP_PREFIX = '.';
const TEMP_SUFFIX = '.tmp';
/** Streamed writes share a leaf folder for this many keys, then move to another random one. */
const KEYS_PER_FOLDER = 128;
/** putBatch groups up to this size share a current folder (see putBatch). */
const SMALL_BATCH = 8;
const BATCH_LANE = '\u0000batch';
/** Write-behind buffer: fragments are copied into buffers of this size and written as they fill. */
const WRITE_BUFFER_BYTES = Math.max(256 * 1024, STAGED_HEAD_BYTES);
/** write() resolves at once until this much is queued for the disk, then waits (backpressure; also bounds the shared buffers a writer holds). */
const WRITE_BEHIND_LIMIT = 2 * 1024 * 1024;
/** A writer prepared for the next journaled open is used only this young (see open()). */
const SPARE_MAX_AGE_MS = 60_000;
/** Folder handles kept open for directory fsyncs. */
const DIR_HANDLES = 8;
/** Worker threads doing fsyncs and streamed writes (see io-workers.ts), besides libuv's threads for everything else. */
const SYNC_WORKERS = 6;
/**
 * The journal of folders whose blobs may lack durable index rows (see the top of this file): beside
 * the blob tree (<root>.journal, e.g. <dataDir>/blobs.journal), so the tree holds only blobs.
 */
export function journalPath(root: string): string {
  return `${root}.journal`;
}

export class FsBlobStore implements BlobStore {
  readonly root: string;
  /** Leaf folders known to exist (and to be durable), to skip mkdir and its directory fsync. */
  private readonly knownDirs = new Set<string>();
  /**
   * The leaf folder each kind of write currently goes to, and how many more keys it takes: streamed
   * writes (and plain journaled ones) under '', journaled writes of a project under its name, small
   * putBatch groups under BATCH_LANE. A journaled folder thus holds one project's blobs (or plain
   * ones), and recovery knows which project a blob came through from its folder's journal line.
   */
  private readonly currents = new Map<string, { prefix: string; left: number }>();
  /** Per folder: the directory fsync not started yet, which a commit may join. */
  private readonly dirSyncs = new Map<string, { started: boolean; done: Promise<void> }>();
  /** Open handles of recently synced folders (streamed writes sync one folder many times in a row). */
  private readonly dirHandles = new Map<string, Promise<FileHandle>>();
  /** Write buffers shared by this store's writers and its I/O workers. */
  private readonly buffers = new SharedBuffers(WRITE_BUFFER_BYTES);
  private readonly syncPool = new IoWorkers(SYNC_WORKERS, this.buffers);
  /** Per journal lane, the writer prepared for the next journaled open (see open()). */
  private readonly spares = new Map<string, { writer: Promise<FsBlobWriter>; at: number }>();
  private randomPool = Buffer.alloc(0);
  private randomLeft = 0;
  /** Journal: folders listed (as "ab/cd"), each with the append that made it durable and its project. */
  private journal: Map<string, { added: Promise<void>; project: string | undefined }> | undefined;
  /** Journaled writers per folder not yet released (their index rows are not committed yet). */
  private readonly unreleased = new Map<string, number>();
  /** Journaled writers ever opened per folder: a trim drops a folder only if none opened during its sync. */
  private readonly openedIn = new Map<string, number>();
  /** Journal file operations, one at a time (appends and rewrites). */
  private journalChain: Promise<void> = Promise.resolve();
  private journalHandle: FileHandle | undefined;

  constructor(root: string) {
    this.root = root;
  }

  /** Creates the root folder if needed. */
  static async create(root: string): Promise<FsBlobStore> {
    // A freshly created root must itself survive a power loss, like the folders below it.
    if ((await mkdir(root, { recursive: true })) !== undefined) await fsyncDir(dirname(root));
    return new FsBlobStore(root);
  }

  pathFor(key: string): string {
    if (!isBlobKey(key)) throw new AppError('STORE_NOT_FOUND', { detail: `malformed blob key "${key.slice(0, 40)}"` });
    return join(this.root, key.slice(0, 2), key.slice(2, 4), key);
  }

  /** `n` keys' worth of the current folder of `lane`, moving to a fresh folder when it is used up. */
  private takeFolder(lane: string, n: number): string {
    let cur = this.currents.get(lane);
    if (!cur || cur.left < n) {
      let prefix: string;
      // Not a folder another lane writes to or the journal lists (it may belong to another project).
      do prefix = randomBytes(2).toString('hex');
      while ([...this.currents.values()].some((c) => c.prefix === prefix) || this.journal?.has(`${prefix.slice(0, 2)}/${prefix.slice(2, 4)}`));
      cur = { prefix, left: KEYS_PER_FOLDER };
      this.currents.set(lane, cur);
    }
    cur.left -= n;
    return cur.prefix;
  }

  async open(opts: OpenOptions = {}): Promise<BlobWriter> {
    if (!opts.journal) return this.openNew(opts);
    // Journaled opens (C-STORE, STOW) take a writer prepared during the previous one and prepare the
    // next: creating the file costs a round trip to an I/O worker that would otherwise delay the
    // first data of every instance (the association's next C-STORE follows its answer at once).
    const lane = opts.project ?? '';
    const spare = this.spares.get(lane);
    const next = this.openNew(opts);
    next.catch(() => undefined);
    this.spares.set(lane, { writer: next, at: Date.now() });
    // A spare left for long goes: an archive check sweeps temp files older than an hour.
    if (spare && Date.now() - spare.at < SPARE_MAX_AGE_MS) return spare.writer;
    if (spare) void spare.writer.then((w) => w.abort()).catch(() => undefined);
    return this.openNew(opts);
  }

  private async openNew(opts: OpenOptions): Promise<FsBlobWriter> {
    const lane = opts.journal ? (opts.project ?? '') : '';
    // 112 random bits after the folder's 16: as collision-free as a fully random key in practice.
    const key = this.takeFolder(lane, 1) + this.randomHex();
    const finalPath = this.pathFor(key);
    const dir = dirname(finalPath);
    const folder = `${key.slice(0, 2)}/${key.slice(2, 4)}`;
    // Counted before the first await, so a trim running meanwhile keeps this folder listed.
    let release: (() => void) | undefined;
    if (opts.journal) {
      this.unreleased.set(folder, (this.unreleased.get(folder) ?? 0) + 1);
      this.openedIn.set(folder, (this.openedIn.get(folder) ?? 0) + 1);
      let released = false;
      release = () => {
        if (released) return;
        released = true;
        const n = (this.unreleased.get(folder) ?? 1) - 1;
        if (n > 0) this.unreleased.set(folder, n);
        else this.unreleased.delete(folder);
      };
    }
    try {
      await this.ensureDir(dir);
      if (opts.journal) await this.journalAdd(folder, opts.project);
      const tempPath = join(dir, TEMP_PREFIX + key + TEMP_SUFFIX);
      // Created exclusively ('wx+', read back by readStaged) by the writer's I/O worker: a random
      // name never collides; if it ever did, failing beats overwriting.
      let file: PinnedFile;
      try {
        file = await this.syncPool.openFile(tempPath);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        // The folder went away behind our back (a manual clean-up): make it again, once.
        this.knownDirs.delete(dir);
        await this.ensureDir(dir);
        file = await this.syncPool.openFile(tempPath);
      }
      return new FsBlobWriter(key, file, this.buffers, finalPath, release);
    } catch (e) {
      release?.();
      throw storeError(e, key);
    }
  }

  /** 28 random hex digits, from a pool refilled 64 keys at a time (one randomFill per key cost ~20 us). */
  private randomHex(): string {
    if (this.randomLeft === 0) {
      this.randomPool = randomBytes(14 * 64);
      this.randomLeft = 64;
    }
    this.randomLeft--;
    return this.randomPool.toString('hex', this.randomLeft * 14, this.randomLeft * 14 + 14);
  }

  get journalSize(): number {
    return this.journal?.size ?? 0;
  }

  /** Lists `folder` in the journal durably (once; later callers wait for the same append). */
  private async journalAdd(folder: string, project: string | undefined): Promise<void> {
    await this.loadJournal();
    const known = this.journal!.get(folder);
    if (known) return known.added;
    const added = this.journalOp(async () => {
      if (!this.journalHandle) {
        const path = journalPath(this.root);
        const existed = await stat(path).then(() => true, () => false);
        this.journalHandle = await open(path, 'a');
        // A new file is a new name in the folder above the root: that must survive a power loss too.
        if (!existed) await fsyncDir(dirname(this.root));
      }
      await this.journalHandle.write(journalLine(folder, project));
      await this.syncPool.sync(this.journalHandle.fd, true);
    });
    const entry = { added, project };
    this.journal!.set(folder, entry);
    // A failed append must not be taken as durable by the next writer in that folder.
    added.catch(() => {
      if (this.journal?.get(folder) === entry) this.journal.delete(folder);
    });
    return added;
  }

  private journalOp(op: () => Promise<void>): Promise<void> {
    const run = this.journalChain.then(op);
    this.journalChain = run.catch(() => undefined);
    return run;
  }

  private async loadJournal(): Promise<void> {
    if (this.journal) return;
    let text = '';
    try {
      text = await readFile(journalPath(this.root), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (this.journal) return;
    this.journal = new Map();
    for (const line of text.split('\n')) {
      const m = /^([0-9a-f]{2}\/[0-9a-f]{2})(?: (\S+))?$/.exec(line);
      if (m) this.journal.set(m[1], { added: Promise.resolve(), project: m[2] === undefined ? undefined : decodeURIComponent(m[2]) });
    }
  }

  /** Blobs in the journal's folders left by earlier processes (see BlobStore.journaledBlobs). */
  async journaledBlobs(): Promise<JournaledBlob[]> {
    await this.loadJournal();
    const out: JournaledBlob[] = [];
    for (const [folder, { project }] of this.journal!) {
      // A folder this process writes to holds rows still on their way, not lost ones.
      if (this.openedIn.has(folder)) continue;
      const dir = join(this.root, folder);
      for (const name of await readdirOrEmpty(dir)) {
        if (!isBlobKey(name)) continue;
        const st = await stat(join(dir, name)).catch(() => undefined);
        if (st?.isFile()) out.push({ key: name, path: join(dir, name), mtimeMs: st.mtimeMs, ...(project !== undefined && { project }) });
      }
    }
    return out;
  }

  async trimJournal(sync: () => Promise<void>, opts: { all?: boolean } = {}): Promise<void> {
    await this.loadJournal();
    const journal = this.journal!;
    const current = new Set([...this.currents.values()].map((c) => `${c.prefix.slice(0, 2)}/${c.prefix.slice(2, 4)}`));
    // A current folder takes new writers at any moment, and a folder with unreleased writers
    // holds blobs whose index rows are not committed yet: both stay.
    // `all` (start-up recovery): every folder of earlier processes, but never one this process has
    // opened journaled writers in (a concurrent intake's rows may not be synced yet).
    const removable = (f: string): boolean => (opts.all === true ? !this.openedIn.has(f) : !current.has(f) && !this.unreleased.has(f));
    // Folders that may go, with how many writers they had seen: one opened there during the sync
    // (the folder became current again) may commit after it, so that folder stays.
    const candidates = new Map([...journal.keys()].filter(removable).map((f) => [f, this.openedIn.get(f) ?? 0]));
    if (candidates.size === 0) return;
    // Appends in flight must be durable before a rewrite can drop or keep their lines.
    await this.journalChain;
    // Every index commit up to here becomes durable, which covers every writer released before it.
    await sync();
    await this.journalOp(async () => {
      for (const [f, opened] of candidates) {
        if ((this.openedIn.get(f) ?? 0) !== opened || this.unreleased.has(f)) continue;
        journal.delete(f);
        this.openedIn.delete(f);
      }
      const path = journalPath(this.root);
      const temp = `${path}.tmp`;
      const fh = await open(temp, 'w');
      try {
        await fh.write([...journal].map(([f, e]) => journalLine(f, e.project)).join(''));
        await this.syncPool.sync(fh.fd, true);
      } finally {
        await fh.close();
      }
      await rename(temp, path);
      await fsyncDir(dirname(this.root));
      // Appends go to the new file from now on.
      const old = this.journalHandle;
      this.journalHandle = undefined;
      await old?.close().catch(() => undefined);
    });
  }

  /**
   * fsync of a folder, shared by every caller that asks before it starts: a rename done before the
   * call is covered by the sync it joins, so concurrent commits into one folder pay for one sync.
   */
  private syncDir(dir: string): Promise<void> {
    const pending = this.dirSyncs.get(dir);
    if (pending && !pending.started) return pending.done;
    const entry = { started: false, done: Promise.resolve() };
    entry.done = (pending?.done ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => {
        entry.started = true;
        return this.fsyncDirCached(dir);
      })
      .finally(() => {
        if (this.dirSyncs.get(dir) === entry) this.dirSyncs.delete(dir);
      });
    this.dirSyncs.set(dir, entry);
    return entry.done;
  }

  async put(data: Uint8Array | readonly Uint8Array[]): Promise<string> {
    const w = await this.open();
    try {
      if (data instanceof Uint8Array) await w.write(data);
      else for (const chunk of data) await w.write(chunk);
      return await w.commit();
    } catch (e) {
      await w.abort();
      throw e;
    }
  }

  /**
   * Group commit. All objects of a group get keys sharing their first four hex digits, so they land
   * in one leaf folder: each file is written and fsync'd, renamed, and the folder is fsync'd ONCE
   * for the group (instead of once per file). Groups pick their folder at random, so folders still
   * fill evenly over time (a folder holds a few groups rather than a few files).
   */
  /** fsync of a folder through a cached handle (saves an open and a close per sync). */
  private async fsyncDirCached(dir: string): Promise<void> {
    let h = this.dirHandles.get(dir);
    if (h) {
      // Most recently used last, so eviction takes the least recently used.
      this.dirHandles.delete(dir);
      this.dirHandles.set(dir, h);
    } else {
      h = open(dir, 'r');
      this.dirHandles.set(dir, h);
      h.catch(() => this.dirHandles.delete(dir));
      // Keep a few: the current folder of streamed writes and those of recent batches.
      while (this.dirHandles.size > DIR_HANDLES) {
        const [oldest, old] = this.dirHandles.entries().next().value as [string, Promise<FileHandle>];
        this.dirHandles.delete(oldest);
        // FileHandle.close waits for a sync still running on it.
        void old.then((fh) => fh.close()).catch(() => undefined);
      }
    }
    await this.syncPool.sync((await h).fd, false);
  }

  async putBatch(items: readonly BlobSource[]): Promise<(string | AppError)[]> {
    if (items.length === 0) return [];
    // Small groups (one de-identified C-STORE, a STOW part) share the streamed writes' current
    // folder: a random folder each would be a new folder (mkdir + two folder fsyncs) on a young
    // archive, three more flushes per object. Large groups (imports) fill a folder of their own.
    const prefix = items.length <= SMALL_BATCH ? this.takeFolder(BATCH_LANE, items.length) : randomBytes(2).toString('hex');
    const dir = join(this.root, prefix.slice(0, 2), prefix.slice(2, 4));
    try {
      await this.ensureDir(dir);
    } catch (e) {
      const err = storeError(e, `${prefix}…`);
      return items.map(() => err);
    }
    // Each item is renamed as soon as its bytes are written, then synced; the folder sync starts
    // once every rename is done and runs alongside the file syncs still in flight.
    const renamed: Promise<void>[] = [];
    const staged = Promise.all(items.map((data) => this.writeDurable(dir, prefix + this.randomHex(), data, renamed)));
    let dirSynced: Promise<void>;
    try {
      // writeDurable registers its rename promise synchronously, so `renamed` is complete here.
      dirSynced = Promise.allSettled(renamed).then(() => this.syncDir(dir));
      dirSynced.catch(() => undefined);
      const results = await staged;
      await dirSynced;
      return results;
    } catch (e) {
      const done = await staged;
      // The renames are not durable, so none of the group is stored: remove them all.
      await Promise.all(done.map((k) => (typeof k === 'string' ? rm(join(dir, k), { force: true }).catch(() => undefined) : undefined)));
      const err = storeError(e, `${prefix}…`);
      return items.map(() => err);
    }
  }

  /**
   * Temp file, write (or kernel-side copy), rename, fdatasync, close; the caller syncs the folder
   * once the promise pushed on `renamed` settles (renaming first is safe: see FsBlobWriter).
   */
  private async writeDurable(dir: string, key: string, item: BlobSource, renamed: Promise<void>[]): Promise<string | AppError> {
    const temp = join(dir, TEMP_PREFIX + key + TEMP_SUFFIX);
    let markRenamed!: () => void;
    renamed.push(new Promise<void>((resolve) => (markRenamed = resolve)));
    try {
      if (!(item instanceof Uint8Array)) {
        // copy_file_range/sendfile (or a reflink where the filesystem has them): the bytes never
        // pass through JS, which halves the CPU an import spends per file.
        try {
          await copyFile(item.path, temp, constants.COPYFILE_EXCL);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') throw sourceError(e);
          throw e;
        }
      }
      const fh = await open(temp, item instanceof Uint8Array ? 'wx' : 'r+');
      let isRenamed = false;
      try {
        if (item instanceof Uint8Array) {
          let off = 0;
          while (off < item.byteLength) off += (await fh.write(item, off, item.byteLength - off)).bytesWritten;
        }
        await rename(temp, join(dir, key));
        isRenamed = true;
        markRenamed();
        await this.syncPool.sync(fh.fd, true);
      } catch (e) {
        if (isRenamed) await rm(join(dir, key), { force: true }).catch(() => undefined);
        throw e;
      } finally {
        await fh.close();
      }
      return key;
    } catch (e) {
      markRenamed();
      await rm(temp, { force: true }).catch(() => undefined);
      return storeError(e, key);
    }
  }

  async get(key: string, expectedSize?: number): Promise<Buffer> {
    const p = this.pathFor(key);
    try {
      return await readWhole(p, expectedSize);
    } catch (e) {
      throw storeError(e, key);
    }
  }

  async readInto(key: string, buf: Buffer, expectedSize?: number): Promise<Buffer> {
    const p = this.pathFor(key);
    try {
      return await readWhole(p, expectedSize, buf);
    } catch (e) {
      throw storeError(e, key);
    }
  }

  createReadStream(key: string): Readable {
    const out = new PassThrough();
    let src: Readable;
    try {
      src = fsCreateReadStream(this.pathFor(key));
    } catch (e) {
      process.nextTick(() => out.destroy(storeError(e, key)));
      return out;
    }
    src.on('error', (e) => out.destroy(storeError(e, key)));
    return src.pipe(out);
  }

  async exists(key: string): Promise<boolean> {
    if (!isBlobKey(key)) return false;
    try {
      return (await stat(this.pathFor(key))).isFile();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw storeError(e, key);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await unlink(this.pathFor(key));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw storeError(e, key);
    }
  }

  /**
   * Removes staged files left by a crash (a process killed between open and commit), older than
   * `olderThanMs` so writes in flight in another process are spared. Walks every folder: an
   * offline maintenance step, not something to run per request. Returns how many were removed.
   */
  async sweepTemporaryFiles(olderThanMs = 3_600_000): Promise<number> {
    const cutoff = Date.now() - olderThanMs;
    let removed = 0;
    for (const temp of await this.listTemporaryFiles()) {
      const st = await stat(temp).catch(() => undefined);
      if (st && st.mtimeMs <= cutoff) {
        await rm(temp, { force: true });
        removed++;
      }
    }
    return removed;
  }

  /** Staged (uncommitted) files currently present, as absolute paths. */
  async listTemporaryFiles(): Promise<string[]> {
    const out: string[] = [];
    for (const a of await readdirOrEmpty(this.root)) {
      for (const b of await readdirOrEmpty(join(this.root, a))) {
        const leaf = join(this.root, a, b);
        for (const name of await readdirOrEmpty(leaf)) {
          if (name.startsWith(TEMP_PREFIX) && name.endsWith(TEMP_SUFFIX)) out.push(join(leaf, name));
        }
      }
    }
    return out;
  }

  /** Every committed key (walks the whole tree; for checks and tests). */
  async listKeys(): Promise<string[]> {
    const out: string[] = [];
    for (const a of await readdirOrEmpty(this.root)) {
      for (const b of await readdirOrEmpty(join(this.root, a))) {
        for (const name of await readdirOrEmpty(join(this.root, a, b))) if (isBlobKey(name)) out.push(name);
      }
    }
    return out;
  }

  async close(): Promise<void> {
    // Prepared writers nobody took: their temp files go.
    const spares = [...this.spares.values()];
    this.spares.clear();
    await Promise.all(spares.map((s) => s.writer.then((w) => w.abort()).catch(() => undefined)));
    const handles = [...this.dirHandles.values()];
    this.dirHandles.clear();
    await Promise.all([...this.dirSyncs.values()].map((e) => e.done.catch(() => undefined)));
    await Promise.all(handles.map((h) => h.then((fh) => fh.close()).catch(() => undefined)));
    await this.journalChain;
    await this.journalHandle?.close().catch(() => undefined);
    this.journalHandle = undefined;
    await this.syncPool.close();
  }

  private async ensureDir(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    const firstCreated = await mkdir(dir, { recursive: true });
    if (firstCreated !== undefined) {
      // New folders are themselves directory entries: fsync each parent of a created folder so the
      // path survives a power loss (the blob's own rename is synced in commit()).
      const parents = [dirname(dir)];
      if (firstCreated !== dir) parents.push(dirname(dirname(dir)));
      for (const p of parents) await fsyncDir(p);
    }
    this.knownDirs.add(dir);
  }
}

/**
 * A staged blob, written by one I/O worker (io-workers.ts). Fragments are copied into shared 256 KB
 * buffers that go to the worker as they fill (write-behind: the caller's stream keeps flowing while
 * the disk catches up); a failure surfaces at the next flush or at commit. The worker's commit, in
 * order: every byte written to the temp file; rename to the final name; fdatasync of the file;
 * fsync of its folder; close. Only then does commit() resolve: the bytes and the name are durable.
 * Renaming before the data is durable is safe because nothing refers to a key until commit()
 * resolves (the index row is written after it): a crash in between leaves at most an unreferenced
 * file (an orphan, swept by the archive check), never an index row pointing at a partial blob.
 */
class FsBlobWriter implements BlobWriter {
  size = 0;
  private state: 'open' | 'committed' | 'aborted' = 'open';
  private fill: SharedBuffer | undefined;
  private fillLen = 0;
  /** The first buffer, kept (not reused) until the end for stagedHead(). */
  private head: SharedBuffer | undefined;
  /** Buffers handed to the worker since the last flush: reusable once a flush or the commit settles. */
  private sent: SharedBuffer[] = [];
  private sentBytes = 0;
  /** Filled buffers not yet posted to the worker. */
  private queued: PinnedWrite[] = [];
  private fileOffset = 0;
  private failure: unknown;

  constructor(
    readonly key: string,
    private readonly file: PinnedFile,
    private readonly pool: SharedBuffers,
    private readonly finalPath: string,
    readonly release?: () => void,
  ) {
    this.journaled = release !== undefined;
  }

  readonly journaled: boolean;

  async write(chunk: Uint8Array): Promise<void> {
    this.assertOpen();
    if (this.failure) throw storeError(this.failure, this.key);
    let off = 0;
    const cap = this.pool.bufferBytes;
    while (off < chunk.byteLength) {
      if (!this.fill) {
        this.fill = this.pool.take();
        this.fillLen = 0;
      }
      const n = Math.min(chunk.byteLength - off, cap - this.fillLen);
      this.fill.buf.set(chunk.subarray(off, off + n), this.fillLen);
      this.fillLen += n;
      off += n;
      if (this.fillLen === cap) this.sendFill();
    }
    this.size += chunk.byteLength;
    // Backpressure: wait for the worker to catch up, which also frees the buffers it has written.
    if (this.sentBytes > WRITE_BEHIND_LIMIT) await this.flush();
  }

  stagedHead(): Uint8Array {
    const first = this.head ?? this.fill;
    if (!first) return Buffer.alloc(0);
    return first.buf.subarray(0, Math.min(this.size, this.pool.bufferBytes));
  }

  async readStaged(): Promise<Buffer> {
    this.assertOpen();
    this.sendFill();
    const fd = await this.flush();
    // The worker is idle for this file until the next write or commit, which only follow this read.
    const buf = Buffer.allocUnsafe(this.size);
    let off = 0;
    while (off < this.size) {
      const n = await new Promise<number>((resolve, reject) => fsRead(fd, buf, off, this.size - off, off, (e, bytes) => (e ? reject(storeError(e, this.key)) : resolve(bytes))));
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off);
  }

  async commit(): Promise<string> {
    this.assertOpen();
    this.sendFill();
    try {
      await this.file.commit(this.finalPath, dirname(this.finalPath), this.takeQueued());
      this.state = 'committed';
      return this.key;
    } catch (e) {
      this.state = 'aborted';
      this.release?.();
      // The worker removed the file (and the final name, if it got that far): not durable, not committed.
      throw storeError(this.failure ?? e, this.key);
    } finally {
      this.giveBack();
    }
  }

  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    // Nothing of an aborted blob gets indexed, so its folder need not stay journaled for it.
    this.release?.();
    // Buffers go back only once the worker has answered: it may still be writing from them.
    this.queued = [];
    await this.file.abort().catch(() => undefined);
    this.giveBack();
  }

  /**
   * Queues the buffer being filled for the worker. Buffers go two at a time, or with the flush or
   * commit that follows: each message to a worker wakes its thread, and on this kind of VM a wake-up
   * costs ~0.1-0.2 ms (profiled), so a 525 KB CT slice travels in one message with its commit while
   * a 50 MB dose grid is still written behind as it arrives.
   */
  private sendFill(): void {
    const b = this.fill;
    if (!b || this.fillLen === 0) return;
    const len = this.fillLen;
    this.fill = undefined;
    this.fillLen = 0;
    this.queued.push({ b, len, pos: this.fileOffset });
    if (this.fileOffset === 0) this.head = b;
    else {
      this.sent.push(b);
      this.sentBytes += len;
    }
    this.fileOffset += len;
    // A large object is written behind, two buffers per message, while the rest arrives.
    if (this.queued.length >= 2) this.file.write(this.takeQueued());
  }

  /** The queued buffers, for the next message to the worker. */
  private takeQueued(): PinnedWrite[] {
    const q = this.queued;
    this.queued = [];
    return q;
  }

  /** Waits until the worker has written everything sent so far; frees those buffers. */
  private async flush(): Promise<number> {
    const written = this.sent;
    this.sent = [];
    this.sentBytes = 0;
    try {
      return await this.file.flush(this.takeQueued());
    } catch (e) {
      this.failure ??= e;
      throw storeError(e, this.key);
    } finally {
      for (const b of written) this.pool.give(b);
    }
  }

  private giveBack(): void {
    for (const b of this.sent) this.pool.give(b);
    this.sent = [];
    if (this.head) this.pool.give(this.head);
    if (this.fill) this.pool.give(this.fill);
    this.head = undefined;
    this.fill = undefined;
  }

  private assertOpen(): void {
    if (this.state !== 'open') throw new AppError('STORE_UNAVAILABLE', { detail: `blob ${this.key} is already ${this.state}` });
  }
}

export interface JournaledBlob {
  key: string;
  path: string;
  mtimeMs: number;
  /** The project its folder's writers were opened for (gateway intakes); absent for plain ones. */
  project?: string;
}

function journalLine(folder: string, project: string | undefined): string {
  return project === undefined ? `${folder}\n` : `${folder} ${encodeURIComponent(project)}\n`;
}

/** Flushes a folder, so names created or renamed in it survive a power loss (POSIX). */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw e;
  }
}

/** The file to copy is missing or unreadable: the input's fault, not the store's. */
export function sourceError(e: unknown): AppError {
  return new AppError('IMPORT_UNREADABLE', { detail: `source file: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, cause: e });
}

function storeError(e: unknown, key: string): AppError {
  if (e instanceof AppError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new AppError('STORE_NOT_FOUND', { detail: `blob ${key}`, cause: e });
  return new AppError('STORE_UNAVAILABLE', { detail: `blob ${key}: ${code ?? 'error'}`, cause: e });
}

/**
 * A whole file in one buffer with the callback API: open, one read, close (not awaited), plus an fstat
 * only when the size is not known. WADO-RS reads every blob this way: `fs/promises` readFile took
 * 1.4-1.6x the CPU for 1000 x 525 KB files, and each thread-pool hop costs context switches on a small
 * machine (strace: ~24 futex calls per blob with open + fstat + read + close). The read asks for one
 * byte more than expected: getting exactly the expected size means the file ended there (a regular
 * file reads short only at its end); the extra byte arriving means it is longer, and a stat settles it.
 */
function readWhole(path: string, expectedSize?: number, into?: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    fsOpen(path, 'r', (openErr, fd) => {
      if (openErr) return reject(openErr);
      const done = (e: unknown, buf?: Buffer) => {
        fsClose(fd, () => undefined);
        if (e) reject(e);
        else resolve(buf!);
      };
      const readFrom = (buf: Buffer, off: number, expected: number): void => {
        fsRead(fd, buf, off, buf.length - off, off, (readErr, n) => {
          if (readErr) return done(readErr);
          const end = off + n;
          if (n === 0 || end === expected) return done(undefined, buf.subarray(0, end));
          if (end < buf.length) return readFrom(buf, end, expected);
          // Longer than expected: size it and read the rest.
          fsFstat(fd, (statErr, st) => {
            if (statErr) return done(statErr);
            const bigger = Buffer.allocUnsafe(st.size + 1);
            buf.copy(bigger, 0, 0, end);
            readFrom(bigger, end, st.size);
          });
        });
      };
      // A caller's buffer when it holds the file and the extra byte; views of it are what it gets back.
      const target = (size: number) => (into && into.length > size ? into.subarray(0, size + 1) : Buffer.allocUnsafe(size + 1));
      if (expectedSize !== undefined) return readFrom(target(expectedSize), 0, expectedSize);
      fsFstat(fd, (statErr, st) => {
        if (statErr) return done(statErr);
        readFrom(target(st.size), 0, st.size);
      });
    });
  });
}
