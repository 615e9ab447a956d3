// File I/O on a few dedicated worker threads: fsync/fdatasync for anyone, and every step of a
// streamed blob write (open, writes, rename, syncs, close) for the fs blob store's writers.
//
// Why not libuv's pool: it has 4 threads (UV_THREADPOOL_SIZE, read once when the process starts),
// and an fsync holds its thread for a whole disk flush: with 4 associations or an import batch, 4
// syncs filled the pool and every open, write and rename queued behind them (measured: import 2-3x
// slower with 4 threads than with 16).
//
// Why whole writes here (a "pinned file"): a C-STORE used to cost one thread-pool round trip per
// 256 KB write, one for the rename, one per sync, each a promise and a context switch back to the
// event loop (measured on a 525 KB slice, 1 association: rename 0.32 ms, last write 0.32 ms, syncs
// 1.1 ms, in a row). A pinned file's operations go, in order, to one worker that runs them as plain
// blocking calls; the event loop posts them without waiting and hears back twice: when the file is
// created and when the commit (rename, fdatasync, folder fsync, close) is done.
//
// The bytes travel in shared memory (SharedBuffers): a message carries a buffer's number, not the
// buffer. Transferring an ArrayBuffer per write instead cost ~0.2 ms of the event loop's time per
// 256 KB (profiled: postMessage was a third of its busy time).
//
// File descriptors are process-wide, so a worker can sync a descriptor the main thread opened; the
// caller keeps it open until the promise settles. A pinned file's descriptor lives in its worker,
// which alone closes it (no other thread can see it reused for another file).
import { Worker } from 'node:worker_threads';

// Plain CommonJS evaluated in the worker: no TypeScript loader needed there.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const files = new Map();
const dirs = new Map();
const bufs = [];
const code = (e) => (e && e.code ? String(e.code) : 'EIO');
function dirFd(path) {
  let fd = dirs.get(path);
  if (fd === undefined) {
    fd = fs.openSync(path, 'r');
    dirs.set(path, fd);
    if (dirs.size > 16) {
      const [oldPath, oldFd] = dirs.entries().next().value;
      dirs.delete(oldPath);
      try { fs.closeSync(oldFd); } catch {}
    }
  }
  return fd;
}
// Writes a message's buffers (write, flush and commit may carry some); a failure is kept on the file.
function applyWrites(f, m) {
  if (!m.bufs || !f || f.err) return;
  try {
    for (let i = 0; i < m.bufs.length; i++) {
      const b = bufs[m.bufs[i]];
      const len = m.lens[i];
      const pos = m.pos[i];
      let off = 0;
      while (off < len) off += fs.writeSync(f.fd, b, off, len - off, pos + off);
    }
  } catch (e) {
    f.err = code(e);
  }
}
function drop(f, extraPath) {
  if (f.fd >= 0) { try { fs.closeSync(f.fd); } catch {} }
  try { fs.unlinkSync(f.path); } catch {}
  if (extraPath) { try { fs.unlinkSync(extraPath); } catch {} }
}
parentPort.on('message', (m) => {
  switch (m.op) {
    case 'buffers':
      if (m.retired !== undefined) bufs[m.retired] = undefined;
      else for (let i = 0; i < m.list.length; i++) bufs[m.first + i] = new Uint8Array(m.list[i]);
      return;
    case 'sync':
      try {
        (m.dataOnly ? fs.fdatasyncSync : fs.fsyncSync)(m.fd);
        parentPort.postMessage({ id: m.id });
      } catch (e) {
        parentPort.postMessage({ id: m.id, code: code(e) });
      }
      return;
    case 'open':
      try {
        files.set(m.file, { fd: fs.openSync(m.path, 'wx+'), path: m.path, err: undefined });
        parentPort.postMessage({ id: m.id });
      } catch (e) {
        parentPort.postMessage({ id: m.id, code: code(e) });
      }
      return;
    case 'write':
      // No answer: a failure is kept and reported by the next flush or commit.
      applyWrites(files.get(m.file), m);
      return;
    case 'flush': {
      const f = files.get(m.file);
      applyWrites(f, m);
      parentPort.postMessage({ id: m.id, fd: f ? f.fd : -1, code: f ? f.err : 'EBADF' });
      return;
    }
    case 'commit': {
      const f = files.get(m.file);
      files.delete(m.file);
      applyWrites(f, m);
      if (!f || f.err) {
        if (f) drop(f);
        parentPort.postMessage({ id: m.id, code: f ? f.err : 'EBADF' });
        return;
      }
      let renamed = false;
      try {
        fs.renameSync(f.path, m.to);
        renamed = true;
        // The rename is in the journal transaction that the file's fdatasync commits; the folder's
        // fsync then finds it already durable (POSIX still asks for it, other filesystems need it).
        fs.fdatasyncSync(f.fd);
        fs.fsyncSync(dirFd(m.dir));
        fs.closeSync(f.fd);
        parentPort.postMessage({ id: m.id });
      } catch (e) {
        drop(f, renamed ? m.to : undefined);
        parentPort.postMessage({ id: m.id, code: code(e) });
      }
      return;
    }
    case 'abort': {
      const f = files.get(m.file);
      files.delete(m.file);
      if (f) drop(f);
      parentPort.postMessage({ id: m.id });
      return;
    }
  }
});
`;

/** A buffer in shared memory, known to every I/O worker by its number. */
export interface SharedBuffer {
  readonly index: number;
  readonly buf: Buffer;
}

/** What the workers are told about the shared buffers: new ones (by number), or one retired. */
export type BufferNews = { readonly first: number; readonly list: readonly SharedArrayBuffer[] } | { readonly retired: number };

/**
 * Fixed-size buffers in shared memory, reused: the event loop fills them, the workers write them out.
 * Fresh buffers per write would also cost page faults (slow to touch on this kind of VM) and GC work.
 * Up to `keep` idle buffers are kept; more (after a burst of associations) are retired, so the memory
 * goes back once every worker has dropped its view.
 */
export class SharedBuffers {
  private readonly all: (SharedArrayBuffer | undefined)[] = [];
  private readonly free: SharedBuffer[] = [];
  private readonly unusedIndexes: number[] = [];
  private readonly listeners: ((news: BufferNews) => void)[] = [];

  constructor(
    readonly bufferBytes: number,
    private readonly keep = 32,
  ) {}

  take(): SharedBuffer {
    const b = this.free.pop();
    if (b) return b;
    const sab = new SharedArrayBuffer(this.bufferBytes);
    const index = this.unusedIndexes.pop() ?? this.all.length;
    this.all[index] = sab;
    for (const l of this.listeners) l({ first: index, list: [sab] });
    return { index, buf: Buffer.from(sab) };
  }

  /** Only once no worker will read `b` any more (its writes were answered). */
  give(b: SharedBuffer): void {
    if (this.free.length < this.keep) {
      this.free.push(b);
      return;
    }
    this.all[b.index] = undefined;
    this.unusedIndexes.push(b.index);
    for (const l of this.listeners) l({ retired: b.index });
  }

  /** Calls `l` with every live buffer so far, then with each change (before take() returns a new buffer). */
  subscribe(l: (news: BufferNews) => void): void {
    this.all.forEach((sab, first) => {
      if (sab) l({ first, list: [sab] });
    });
    this.listeners.push(l);
  }

  /** Buffers allocated now (in use or idle). */
  get count(): number {
    return this.all.filter((s) => s !== undefined).length;
  }
}

interface Slot {
  worker: Worker;
  /** Requests this worker holds: a crashed worker fails only its own. */
  ids: Set<number>;
  dead: boolean;
}

interface Pending {
  slot: Slot;
  resolve: (m: Reply) => void;
  reject: (e: Error) => void;
}

interface Reply {
  id: number;
  code?: string;
  fd?: number;
}

function ioError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

export interface PinnedWrite {
  readonly b: SharedBuffer;
  readonly len: number;
  readonly pos: number;
}

/** The buffers of `writes` as message fields (numbers only: the bytes are in shared memory). */
function writeFields(writes: readonly PinnedWrite[]): Record<string, number[]> | undefined {
  if (writes.length === 0) return undefined;
  return { bufs: writes.map((w) => w.b.index), lens: writes.map((w) => w.len), pos: writes.map((w) => w.pos) };
}

/** A file written by one worker, operation after operation (see the top of this file). */
export interface PinnedFile {
  /** Writes `writes` (each `b.buf[0, len)` at `pos`), unanswered; every `b` untouched until a later flush or commit settles. */
  write(writes: readonly PinnedWrite[]): void;
  /**
   * Writes `writes` (each `b.buf[0, len)` at `pos`; every `b` untouched until this settles), then
   * resolves with the descriptor: every write so far is in the file. Rejects if one failed.
   */
  flush(writes: readonly PinnedWrite[]): Promise<number>;
  /**
   * Writes `writes`, renames to `to`, fdatasyncs, fsyncs folder `dir`, closes: one message, one
   * answer. Rejects (file and name removed) on any failure so far.
   */
  commit(to: string, dir: string, writes: readonly PinnedWrite[]): Promise<void>;
  /** Closes and removes the file. */
  abort(): Promise<void>;
}

export class IoWorkers {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private nextFile = 1;
  private closed = false;

  constructor(
    private readonly size: number,
    /** The buffers pinned files are written from. */
    readonly buffers: SharedBuffers,
  ) {}

  /** fdatasync (dataOnly) or fsync of an open descriptor. Rejects with an errno-style error. */
  async sync(fd: number, dataOnly: boolean): Promise<void> {
    await this.request(this.pick(), { op: 'sync', fd, dataOnly });
  }

  /** Creates `path` (exclusively) on the least busy worker, which then runs every operation on it. */
  async openFile(path: string): Promise<PinnedFile> {
    const slot = this.pick();
    const file = this.nextFile++;
    await this.request(slot, { op: 'open', file, path });
    return {
      write: (writes) => {
        if (writes.length > 0 && !slot.dead && !this.closed) slot.worker.postMessage({ op: 'write', file, ...writeFields(writes) });
      },
      flush: async (writes) => (await this.request(slot, { op: 'flush', file, ...writeFields(writes) })).fd!,
      commit: async (to, dir, writes) => {
        await this.request(slot, { op: 'commit', file, to, dir, ...writeFields(writes) });
      },
      abort: async () => {
        await this.request(slot, { op: 'abort', file });
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((s) => s.worker.terminate()));
    for (const p of this.pending.values()) p.reject(ioError('I/O workers closed', 'EBADF'));
    this.pending.clear();
  }

  /** Posts a request and resolves with its reply; a reply carrying an errno code rejects. */
  private request(slot: Slot, msg: Record<string, unknown>): Promise<Reply> {
    if (this.closed) return Promise.reject(ioError('I/O workers closed', 'EBADF'));
    if (slot.dead) return Promise.reject(ioError('I/O worker stopped', 'EIO'));
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { slot, resolve, reject });
      // Referenced while it holds a request (the caller awaits it), unreferenced when idle.
      if (slot.ids.size === 0) slot.worker.ref();
      slot.ids.add(id);
      slot.worker.postMessage({ ...msg, id });
    });
  }

  /** The least busy worker; a new one while fewer than `size` exist and all are busy. */
  private pick(): Slot {
    if (this.closed) throw ioError('I/O workers closed', 'EBADF');
    let best: Slot | undefined;
    for (const s of this.slots) if (!best || s.ids.size < best.ids.size) best = s;
    if (best && (best.ids.size === 0 || this.slots.length >= this.size)) return best;
    return this.spawn();
  }

  private spawn(): Slot {
    // execArgv []: not the parent's flags (a test runner's `--import tsx` would load tsx in every worker).
    const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [] });
    const slot: Slot = { worker, ids: new Set(), dead: false };
    // Every shared buffer, before any write that names it (messages to a worker arrive in order).
    this.buffers.subscribe((news) => {
      if (!slot.dead) worker.postMessage({ op: 'buffers', ...news });
    });
    worker.on('message', (m: Reply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      slot.ids.delete(m.id);
      if (slot.ids.size === 0) worker.unref();
      if (m.code) p.reject(ioError(`file operation failed: ${m.code}`, m.code));
      else p.resolve(m);
    });
    const fail = (e: unknown) => {
      slot.dead = true;
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      for (const id of slot.ids) {
        const p = this.pending.get(id);
        this.pending.delete(id);
        p?.reject(ioError(`I/O worker stopped: ${(e as Error | undefined)?.message ?? 'exit'}`, 'EIO'));
      }
      slot.ids.clear();
    };
    worker.on('error', fail);
    worker.on('exit', fail);
    // Idle workers must not keep the process alive (after the listeners: adding one re-refs).
    worker.unref();
    this.slots.push(slot);
    return slot;
  }
}
