// SqlDb over a pg Pool, with every table inside one schema (tests: a schema per test).
import type pg from 'pg';
import { AppError } from '../core/errors.ts';
import type { SqlDb, SqlQuery } from './sql-db.ts';

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

export class PgSqlDb implements SqlDb {
  readonly dialect = 'postgres' as const;
  readonly #pool: pg.Pool;
  readonly #schema: string;
  readonly #ownsPool: boolean;

  constructor(pool: pg.Pool, opts: { schema?: string; ownsPool?: boolean } = {}) {
    const schema = opts.schema ?? 'public';
    if (!IDENT.test(schema)) throw new AppError('CONFIG_INVALID', { detail: `schema name ${schema} must match ${IDENT.source}` });
    this.#pool = pool;
    this.#schema = schema;
    this.#ownsPool = opts.ownsPool ?? false;
  }

  table(name: string): string {
    return `"${this.#schema}"."${name}"`;
  }

  async query<R = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    try {
      return (await this.#pool.query(sql, params as unknown[])).rows as R[];
    } catch (e) {
      throw wrap(e);
    }
  }

  async tx<T>(fn: (q: SqlQuery) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (e) {
      throw wrap(e);
    }
    const q: SqlQuery = { query: async <R>(sql: string, params: readonly unknown[] = []) => (await client.query(sql, params as unknown[])).rows as R[] };
    try {
      await client.query('BEGIN');
      const r = await fn(q);
      await client.query('COMMIT');
      return r;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw wrap(e);
    } finally {
      client.release();
    }
  }

  async exec(sql: string): Promise<void> {
    await this.query(`CREATE SCHEMA IF NOT EXISTS "${this.#schema}"`);
    await this.query(sql);
  }

  async close(): Promise<void> {
    if (this.#ownsPool) await this.#pool.end();
  }
}

function wrap(e: unknown): unknown {
  // Our own coded errors (thrown by a transaction body) pass through unchanged.
  if (e instanceof AppError) return e;
  return new AppError('JOB_DB_UNAVAILABLE', { detail: `postgres: ${(e as { code?: string }).code ?? 'error'}`, cause: e });
}
