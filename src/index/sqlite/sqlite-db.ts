// better-sqlite3 behind the async SqlDb port. better-sqlite3 (over node-sqlite3 or node:sqlite):
// synchronous calls with no thread hop are the fastest SQLite binding for Node 20 (node:sqlite
// needs Node 22), and transactions are explicit. Calls are serialized by a queue so an awaited
// transaction on this one connection never interleaves with other statements.
import Database from 'better-sqlite3';
import { AppError } from '../../core/errors.ts';
import { SAFETY_AUTOCHECKPOINT_PAGES, SqliteCheckpointer } from '../../core/sqlite-checkpointer.ts';
import { WalSync } from '../../core/sqlite-wal-sync.ts';
import { sqliteDialect } from '../sql/dialect.ts';
import type { SqlDb, SqlValue } from '../sql/sql-db.ts';

type Statement = Database.Statement<unknown[], unknown>;

export interface SqliteOptions {
  /**
   * FULL (default): a write is durable when its promise resolves, so "stored" means stored even
   * across a power loss. NORMAL in WAL mode may lose the last commits on power loss (not on a crash).
   *
   * FULL is not SQLite's own synchronous=FULL, which fdatasyncs the WAL inside COMMIT and so blocks
   * the event loop (and every association) for the whole disk flush. Instead SQLite runs with
   * synchronous=NORMAL (the WAL stays consistent: SQLite syncs it before each checkpoint) and we
   * fdatasync the WAL file ourselves on the libuv pool after each write, before resolving it: the
   * same guarantee (every frame up to the commit is on disk when the caller hears "committed"),
   * without blocking, and one sync serves every commit made while it waited to start.
   */
  synchronous?: 'FULL' | 'NORMAL';
}

export class SqliteDb implements SqlDb {
  readonly dialect = sqliteDialect;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Statement>();
  private queue: Promise<unknown> = Promise.resolve();
  /** FULL on a file database: writes resolve only after syncWal(). */
  private readonly syncWrites: boolean;
  private readonly walSync: WalSync;
  private readonly checkpointer: SqliteCheckpointer | undefined;

  constructor(path: string, opts: SqliteOptions = {}) {
    const full = (opts.synchronous ?? 'FULL') === 'FULL';
    this.syncWrites = full && path !== ':memory:' && path !== '';
    this.walSync = new WalSync(`${path}-wal`, (e) => new AppError('INDEX_UNAVAILABLE', { detail: `cannot sync the SQLite WAL: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, cause: e }));
    try {
      this.db = new Database(path);
      this.db.pragma('journal_mode = WAL');
      // See SqliteOptions: with FULL we sync the WAL ourselves after each write (syncWal).
      this.db.pragma(`synchronous = ${full && !this.syncWrites ? 'FULL' : 'NORMAL'}`);
      // Another process (an import while serve runs) may hold the write lock briefly.
      this.db.pragma('busy_timeout = 10000');
      this.db.pragma('foreign_keys = ON');
      // 64 MB page cache (default 2 MB): the four tables' indexes stay in memory for large archives.
      this.db.pragma('cache_size = -65536');
      // Checkpoints run on a worker thread with its own connection (core/sqlite-checkpointer.ts):
      // inside a COMMIT on the event loop they cost ~0.16 ms per instance and stalls of 110-140 ms.
      // The automatic one stays as a safety net, at 64 MB of WAL.
      if (path !== ':memory:' && path !== '') {
        this.db.pragma(`wal_autocheckpoint = ${SAFETY_AUTOCHECKPOINT_PAGES}`);
        this.checkpointer = new SqliteCheckpointer(path);
      }
    } catch (e) {
      throw new AppError('INDEX_UNAVAILABLE', { detail: `cannot open SQLite index: ${(e as Error).message}`, cause: e });
    }
  }

  all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.serial(() => this.direct.all<T>(sql, params));
  }

  get<T>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return this.serial(() => this.direct.get<T>(sql, params));
  }

  values(sql: string, params: readonly SqlValue[] = []): Promise<unknown[][]> {
    return this.serial(() => this.direct.values(sql, params));
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
    const r = await this.serial(() => this.direct.run(sql, params));
    if (r.changes > 0) await this.syncWal();
    return r;
  }

  /** `durable: false` skips the WAL sync (see StoreOptions in archive-index.ts); sync() makes it up. */
  async transaction<T>(fn: (tx: SqlDb) => Promise<T>, opts: { durable?: boolean } = {}): Promise<T> {
    const result = await this.serial(async () => {
      this.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.direct);
        this.exec('COMMIT');
        return result;
      } catch (e) {
        if (this.db.inTransaction) this.exec('ROLLBACK');
        throw e;
      }
    });
    // Outside the queue: the next transaction may commit while this one's WAL sync runs.
    if (opts.durable !== false) await this.syncWal();
    return result;
  }

  /** Every commit made so far is durable when this resolves. */
  sync(): Promise<void> {
    return this.syncWal();
  }

  /** Makes every commit made so far durable (one fdatasync of the WAL, shared by concurrent callers). */
  private syncWal(): Promise<void> {
    return this.syncWrites ? this.walSync.sync() : Promise.resolve();
  }

  /** Synchronous statement, for startup (migrations) only. */
  querySync<T = Record<string, unknown>>(sql: string, params: readonly SqlValue[] = []): T[] {
    try {
      const st = this.prepare(sql);
      return st.reader ? (st.all(...bind(params)) as T[]) : (st.run(...bind(params)), []);
    } catch (e) {
      throw wrap(e);
    }
  }

  /** Runs DDL (migrations). */
  exec(sql: string): void {
    try {
      this.db.exec(sql);
    } catch (e) {
      throw wrap(e);
    }
  }

  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    await this.walSync.close();
    await this.checkpointer?.close();
    if (this.db.open) this.db.close();
  }

  /** The handle used inside a transaction: runs immediately, without queueing. */
  private readonly direct: SqlDb = {
    dialect: sqliteDialect,
    all: async <T>(sql: string, params: readonly SqlValue[] = []) => {
      try {
        return this.prepare(sql).all(...bind(params)) as T[];
      } catch (e) {
        throw wrap(e);
      }
    },
    get: async <T>(sql: string, params: readonly SqlValue[] = []) => {
      try {
        return this.prepare(sql).get(...bind(params)) as T | undefined;
      } catch (e) {
        throw wrap(e);
      }
    },
    values: async (sql: string, params: readonly SqlValue[] = []) => {
      try {
        return this.prepare(sql, true).all(...bind(params)) as unknown[][];
      } catch (e) {
        throw wrap(e);
      }
    },
    run: async (sql: string, params: readonly SqlValue[] = []) => {
      try {
        return { changes: this.prepare(sql).run(...bind(params)).changes };
      } catch (e) {
        throw wrap(e);
      }
    },
    transaction: () => {
      throw new Error('nested transactions are not supported');
    },
    close: async () => undefined,
  };

  /** A cached statement; `raw` ones (rows as arrays) are kept apart, raw mode being per statement. */
  private prepare(sql: string, raw = false): Statement {
    const key = raw ? `raw:${sql}` : sql;
    let st = this.statements.get(key);
    if (!st) {
      st = this.db.prepare(sql);
      if (raw) st.raw(true);
      this.statements.set(key, st);
    }
    return st;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

function bind(params: readonly SqlValue[]): unknown[] {
  return params.map((p) => (p === undefined ? null : p));
}

function wrap(e: unknown): unknown {
  if (e instanceof AppError) return e;
  // Environment failures are retryable INDEX_UNAVAILABLE; anything else (a constraint, bad SQL) is a bug.
  if (e instanceof Error && /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY|CORRUPT|NOTADB|PROTOCOL)/.test((e as { code?: string }).code ?? '')) {
    return new AppError('INDEX_UNAVAILABLE', { detail: `${(e as { code?: string }).code}: ${e.message}`, cause: e });
  }
  return e;
}
