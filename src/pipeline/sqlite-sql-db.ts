// SqlDb over better-sqlite3. Statements run synchronously; transactions are serialised through a
// promise chain because workers of one process share the connection and a transaction body awaits.
import Database from 'better-sqlite3';
import { AppError } from '../core/errors.ts';
import type { SqlDb, SqlQuery } from './sql-db.ts';

type Db = Database.Database;

// $1, $2 ... -> @p1, @p2 (better-sqlite3 binds numbered `?NNN` only positionally).
const PLACEHOLDER = /\$(\d+)/g;

export class SqliteSqlDb implements SqlDb {
  readonly dialect = 'sqlite' as const;
  readonly #db: Db;
  readonly #owned: boolean;
  readonly #statements = new Map<string, Database.Statement>();
  #chain: Promise<unknown> = Promise.resolve();

  /** `db`: a path (opened and closed here) or an open connection shared with the index. */
  constructor(db: string | Db) {
    this.#owned = typeof db === 'string';
    try {
      this.#db = typeof db === 'string' ? new Database(db) : db;
    } catch (e) {
      throw new AppError('JOB_DB_UNAVAILABLE', { detail: 'cannot open the SQLite database', cause: e });
    }
    if (this.#owned) {
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma('synchronous = NORMAL');
    }
    // Another process holding the write lock makes BEGIN IMMEDIATE wait, not fail.
    this.#db.pragma('busy_timeout = 5000');
  }

  table(name: string): string {
    return `"${name}"`;
  }

  #run<R>(sql: string, params: readonly unknown[]): R[] {
    let st = this.#statements.get(sql);
    if (!st) {
      st = this.#db.prepare(sql.replace(PLACEHOLDER, '@p$1'));
      this.#statements.set(sql, st);
    }
    const named: Record<string, unknown> = {};
    params.forEach((v, i) => (named[`p${i + 1}`] = v));
    const args = params.length > 0 ? [named] : [];
    if (st.reader) return st.all(...args) as R[];
    st.run(...args);
    return [];
  }

  query<R = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    // Through the chain: a statement run while another caller's transaction awaits would join it.
    const p = this.#chain.catch(() => undefined).then(() => {
      try {
        return this.#run<R>(sql, params);
      } catch (e) {
        throw new AppError('JOB_DB_UNAVAILABLE', { detail: 'sqlite query failed', cause: e });
      }
    });
    this.#chain = p;
    return p;
  }

  tx<T>(fn: (q: SqlQuery) => Promise<T>): Promise<T> {
    const q: SqlQuery = { query: async <R>(sql: string, params: readonly unknown[] = []) => this.#run<R>(sql, params) };
    const p = this.#chain.catch(() => undefined).then(async () => {
      this.#db.exec('BEGIN IMMEDIATE');
      try {
        const r = await fn(q);
        this.#db.exec('COMMIT');
        return r;
      } catch (e) {
        if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
        throw e;
      }
    });
    this.#chain = p;
    return p;
  }

  async exec(sql: string): Promise<void> {
    this.#db.exec(sql);
  }

  async close(): Promise<void> {
    await this.#chain.catch(() => undefined);
    this.#statements.clear();
    if (this.#owned) this.#db.close();
  }
}
