// better-sqlite3 behind the async SqlDb port. better-sqlite3 (over node-sqlite3 or node:sqlite):
// synchronous calls with no thread hop are the fastest SQLite binding for Node 20 (node:sqlite
// needs Node 22), and transactions are explicit. Calls are serialized by a queue so an awaited
// transaction on this one connection never interleaves with other statements.
import Database from 'better-sqlite3';
import { AppError } from '../../core/errors.ts';
import { sqliteDialect } from '../sql/dialect.ts';
import type { SqlDb, SqlValue } from '../sql/sql-db.ts';

type Statement = Database.Statement<unknown[], unknown>;

export interface SqliteOptions {
  /**
   * FULL (default): a commit is durable when it returns, so "stored" means stored even across a
   * power loss. NORMAL in WAL mode may lose the last commits on power loss (not on a crash).
   */
  synchronous?: 'FULL' | 'NORMAL';
}

export class SqliteDb implements SqlDb {
  readonly dialect = sqliteDialect;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Statement>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(path: string, opts: SqliteOptions = {}) {
    try {
      this.db = new Database(path);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`);
      // Another process (an import while serve runs) may hold the write lock briefly.
      this.db.pragma('busy_timeout = 10000');
      this.db.pragma('foreign_keys = ON');
      // 64 MB page cache (default 2 MB): the four tables' indexes stay in memory for large archives.
      this.db.pragma('cache_size = -65536');
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

  run(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
    return this.serial(() => this.direct.run(sql, params));
  }

  transaction<T>(fn: (tx: SqlDb) => Promise<T>): Promise<T> {
    return this.serial(async () => {
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

  private prepare(sql: string): Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
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
