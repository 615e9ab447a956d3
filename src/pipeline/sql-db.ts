// The one database port the pipeline's tables go through (pg-boss's `executeSql` shape): the job
// repo and the stable-study repo are written once in portable SQL with $1.. placeholders, and the
// SQLite / PostgreSQL adapters (sqlite-sql-db.ts, pg-sql-db.ts) supply transactions and quoting.
export type Dialect = 'sqlite' | 'postgres';

export interface SqlQuery {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
}

export interface SqlDb extends SqlQuery {
  readonly dialect: Dialect;
  /** Qualified, quoted table name (PostgreSQL: inside the configured schema). */
  table(name: string): string;
  /**
   * Runs fn in one transaction. SQLite: BEGIN IMMEDIATE (the write lock is taken up front, so a
   * claim's read-then-update cannot interleave with another process); PostgreSQL: READ COMMITTED,
   * callers use FOR UPDATE SKIP LOCKED and unique constraints.
   */
  tx<T>(fn: (q: SqlQuery) => Promise<T>): Promise<T>;
  /** DDL, several statements. */
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}
