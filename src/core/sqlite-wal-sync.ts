// Durable SQLite commits without blocking the event loop. SQLite's own synchronous=FULL fdatasyncs
// the WAL inside COMMIT, on the calling thread: with better-sqlite3 (synchronous) that stalls every
// association and request for the whole disk flush. Instead the database runs with
// synchronous=NORMAL (the WAL stays consistent; SQLite syncs it before each checkpoint) and the
// writer awaits WalSync.sync() after its commit: one fdatasync of the WAL file on the libuv pool
// covers every commit made before it started, so concurrent writers share one flush and the caller
// hears "committed" only when its frames are on disk: the same guarantee as FULL.
import { open, type FileHandle } from 'node:fs/promises';

export class WalSync {
  private wal: FileHandle | undefined;
  /** The sync not started yet, which commits made meanwhile join. */
  private pending: { started: boolean; done: Promise<void> } | undefined;

  /** `walPath`: `<database>-wal`; `toError` turns an I/O failure into the caller's typed error. */
  constructor(
    private readonly walPath: string,
    private readonly toError: (e: unknown) => Error,
  ) {}

  /**
   * Makes every commit made so far durable. A caller joins a sync that has not started yet (it
   * covers the caller's commit) or queues one after the running one (which may have started before).
   */
  sync(): Promise<void> {
    const queued = this.pending;
    if (queued && !queued.started) return queued.done;
    const entry = { started: false, done: Promise.resolve() };
    entry.done = (queued?.done ?? Promise.resolve())
      .catch(() => undefined)
      .then(async () => {
        entry.started = true;
        try {
          // The WAL file lives as long as the connection in WAL mode, so one handle serves.
          this.wal ??= await open(this.walPath, 'r+');
          await this.wal.datasync();
        } catch (e) {
          const h = this.wal;
          this.wal = undefined;
          await h?.close().catch(() => undefined);
          throw this.toError(e);
        }
      })
      .finally(() => {
        if (this.pending === entry) this.pending = undefined;
      });
    this.pending = entry;
    return entry.done;
  }

  async close(): Promise<void> {
    await this.pending?.done.catch(() => undefined);
    await this.wal?.close().catch(() => undefined);
    this.wal = undefined;
  }
}
