// fsync/fdatasync on a few dedicated worker threads. libuv runs fs calls on a pool of 4 threads
// (UV_THREADPOOL_SIZE, read once when the process starts, before any of our code runs), and an
// fsync holds its thread for a whole disk flush: with 4 associations or an import batch, 4 syncs
// filled the pool and every open, write and rename queued behind them (measured: import 2-3x
// slower with 4 threads than with 16). File descriptors are process-wide, so a worker can sync a
// descriptor the main thread opened; the caller keeps it open until the promise settles.
import { Worker } from 'node:worker_threads';

// Plain CommonJS evaluated in the worker: no TypeScript loader needed there.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { fdatasyncSync, fsyncSync } = require('node:fs');
parentPort.on('message', (m) => {
  try {
    (m.dataOnly ? fdatasyncSync : fsyncSync)(m.fd);
    parentPort.postMessage({ id: m.id });
  } catch (e) {
    parentPort.postMessage({ id: m.id, code: e && e.code ? String(e.code) : 'EIO' });
  }
});
`;

interface Slot {
  worker: Worker;
  /** Requests this worker holds: a crashed worker fails only its own. */
  ids: Set<number>;
}

interface Pending {
  slot: Slot;
  resolve: () => void;
  reject: (e: Error) => void;
}

function syncError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

export class SyncPool {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly size: number) {}

  /** fdatasync (dataOnly) or fsync of an open descriptor. Rejects with an errno-style error. */
  sync(fd: number, dataOnly: boolean): Promise<void> {
    if (this.closed) return Promise.reject(syncError('sync pool closed', 'EBADF'));
    const slot = this.pick();
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { slot, resolve, reject });
      // Referenced while it holds a request (the caller awaits it), unreferenced when idle.
      if (slot.ids.size === 0) slot.worker.ref();
      slot.ids.add(id);
      slot.worker.postMessage({ id, fd, dataOnly });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((s) => s.worker.terminate()));
    for (const p of this.pending.values()) p.reject(syncError('sync pool closed', 'EBADF'));
    this.pending.clear();
  }

  /** The least busy worker; a new one while fewer than `size` exist and all are busy. */
  private pick(): Slot {
    let best: Slot | undefined;
    for (const s of this.slots) if (!best || s.ids.size < best.ids.size) best = s;
    if (best && (best.ids.size === 0 || this.slots.length >= this.size)) return best;
    return this.spawn();
  }

  private spawn(): Slot {
    // execArgv []: not the parent's flags (a test runner's `--import tsx` would load tsx in every worker).
    const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [] });
    const slot: Slot = { worker, ids: new Set() };
    worker.on('message', (m: { id: number; code?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      slot.ids.delete(m.id);
      if (slot.ids.size === 0) worker.unref();
      if (m.code) p.reject(syncError(`sync failed: ${m.code}`, m.code));
      else p.resolve();
    });
    const fail = (e: unknown) => {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      for (const id of slot.ids) {
        const p = this.pending.get(id);
        this.pending.delete(id);
        p?.reject(syncError(`sync worker stopped: ${(e as Error | undefined)?.message ?? 'exit'}`, 'EIO'));
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
