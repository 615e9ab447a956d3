// SqlDb over better-sqlite3. Statements run synchronously; transactions are serialised through a
// promise chain because workers of one process share the connection and a transaction body awaits.
import Database from 'better-sqlite3';
import { AppError } from '../core/errors.ts';
import { SAFETY_AUTOCHECKPOINT_PAGES } from '../core/sqlite-checkpointer.ts';
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
      // In `serve` this connection shares index.sqlite's WAL with the index's connection, whose
      // checkpoints run on a worker thread, with an automatic one at 16000 pages as a safety net
      // (core/sqlite-checkpointer.ts). An automatic checkpoint runs inside whichever COMMIT crosses
      // its connection's threshold, on the event loop, with fsyncs; with SQLite's default of 1000
      // pages ours crossed first and did the index's checkpoints in our commits (the index then
      // kept 4000). So the same safety net here; a database of our own (CLI, tests) is still
      // checkpointed.
      this.#db.pragma(`wal_autocheckpoint = ${SAFETY_AUTOCHECKPOINT_PAGES}`);
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
