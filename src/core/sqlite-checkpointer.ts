// WAL checkpoints of a SQLite file on a worker thread, with its own connection, instead of inside
// a COMMIT on the event loop. SQLite's automatic checkpoint runs in whichever COMMIT pushes the WAL
// past its threshold: it copies the WAL into the database and fsyncs both, and every association
// and HTTP request waits meanwhile (measured on the index: 320-340 us per one-instance transaction
// with it, 155-180 us without, and stalls of 110-140 ms). A PASSIVE checkpoint by another connection
// runs beside the writer (it copies what no reader still needs and never blocks a writer).
//
// The owner keeps a high automatic threshold as a safety net (should this worker stop, the WAL
// still cannot grow without bound) and the worker checkpoints every `intervalMs`.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// Plain CommonJS evaluated in the worker: no TypeScript loader needed there.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
// This connection writes nothing itself; its own automatic checkpoints stay off.
db.pragma('wal_autocheckpoint = 0');
let failures = 0;
function checkpoint() {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    failures = 0;
  } catch (e) {
    // SQLITE_BUSY and the like: the next round tries again; the owner's safety net holds meanwhile.
    if (++failures === 10) parentPort.postMessage({ warn: String((e && e.code) || e) });
  }
}
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m === 'close') {
    clearInterval(timer);
    try { db.close(); } catch {}
    parentPort.postMessage({ closed: true });
  }
});
`;

/** Automatic checkpoint threshold (pages) the owner connection keeps as a safety net. */
export const SAFETY_AUTOCHECKPOINT_PAGES = 16_000;

export class SqliteCheckpointer {
  private readonly worker: Worker;
  private closed: Promise<void> | undefined;

  constructor(path: string, opts: { intervalMs?: number; onWarning?: (code: string) => void } = {}) {
    const module = createRequire(import.meta.url).resolve('better-sqlite3');
    // execArgv []: not the parent's flags (a test runner's `--import tsx` would load tsx here too).
    this.worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], workerData: { path, module, intervalMs: opts.intervalMs ?? 500 } });
    this.worker.on('message', (m: { warn?: string }) => {
      if (m.warn) opts.onWarning?.(m.warn);
    });
    // A checkpointer that fails to start (or dies) costs only speed: the owner's automatic
    // checkpoint takes over.
    this.worker.on('error', (e) => opts.onWarning?.((e as NodeJS.ErrnoException).code ?? e.message));
    // Never keeps the process alive.
    this.worker.unref();
  }

  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      const done = () => resolve();
      // Held open while it finishes (it is unreferenced the rest of the time).
      this.worker.ref();
      this.worker.once('exit', done);
      this.worker.once('message', (m: { closed?: boolean }) => {
        if (m.closed) void this.worker.terminate().then(done, done);
      });
      this.worker.postMessage('close');
      // A worker that never started answers nothing: do not wait for it.
      setTimeout(() => void this.worker.terminate().then(done, done), 2000).unref();
    });
    return this.closed;
  }
}
