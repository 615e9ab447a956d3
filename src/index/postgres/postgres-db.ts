// node-postgres behind the SqlDb port: `?` placeholders become $1..$n, a transaction runs on one
// pooled client, and write transactions of this process are serialized (like the SQLite adapter)
// so two batches carrying the same SOP Instance UID meet as "duplicate", not as a unique-key error.
import pg from 'pg';
import { AppError } from '../../core/errors.ts';
import { postgresDialect } from '../sql/dialect.ts';
import type { SqlDb, SqlValue } from '../sql/sql-db.ts';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export interface PostgresOptions {
  connectionString: string;
  /** Schema holding the index tables; created if missing. */
  schema: string;
  max?: number;
}

/** Rewrites `?` placeholders to `$n`. The index's SQL has no `?` inside literals. */
export function numberPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

type Queryable = pg.Pool | pg.PoolClient;

export class PostgresDb implements SqlDb {
  readonly dialect = postgresDialect;
  readonly pool: pg.Pool;
  private writes: Promise<unknown> = Promise.resolve();

  constructor(readonly opts: PostgresOptions) {
    if (!SCHEMA_NAME.test(opts.schema)) throw new AppError('CONFIG_INVALID', { detail: `invalid PostgreSQL schema name "${opts.schema}"` });
    this.pool = new pg.Pool({ connectionString: opts.connectionString, max: opts.max ?? 4 });
    this.pool.on('connect', (client) => {
      client.query(`SET search_path TO ${opts.schema}`).catch(() => undefined);
    });
  }

  all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return query<T>(this.pool, sql, params);
  }

  async get<T>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return (await query<T>(this.pool, sql, params))[0];
  }

  values(sql: string, params: readonly SqlValue[] = []): Promise<unknown[][]> {
    return arrays(this.pool, sql, params);
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
    return { changes: (await raw(this.pool, sql, params)).rowCount ?? 0 };
  }

  transaction<T>(fn: (tx: SqlDb) => Promise<T>): Promise<T> {
    const next = this.writes.then(() => this.runTransaction(fn));
    this.writes = next.catch(() => undefined);
    return next;
  }

  private async runTransaction<T>(fn: (tx: SqlDb) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw unavailable(e);
    }
    try {
      await client.query('BEGIN');
      const tx: SqlDb = {
        dialect: postgresDialect,
        all: <R>(sql: string, params: readonly SqlValue[] = []) => query<R>(client, sql, params),
        get: async <R>(sql: string, params: readonly SqlValue[] = []) => (await query<R>(client, sql, params))[0],
        values: (sql, params = []) => arrays(client, sql, params),
        run: async (sql, params = []) => ({ changes: (await raw(client, sql, params)).rowCount ?? 0 }),
        transaction: () => {
          throw new Error('nested transactions are not supported');
        },
        close: async () => undefined,
      };
      const result = await fn(tx);
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.writes.catch(() => undefined);
    await this.pool.end();
  }
}

async function raw(q: Queryable, sql: string, params: readonly SqlValue[]): Promise<pg.QueryResult> {
  try {
    return await q.query(numberPlaceholders(sql), params.map((p) => (p === undefined ? null : p)) as unknown[]);
  } catch (e) {
    throw translate(e);
  }
}

async function arrays(q: Queryable, sql: string, params: readonly SqlValue[]): Promise<unknown[][]> {
  try {
    const r = await q.query({ text: numberPlaceholders(sql), values: params.map((p) => (p === undefined ? null : p)) as unknown[], rowMode: 'array' });
    return r.rows as unknown[][];
  } catch (e) {
    throw translate(e);
  }
}

async function query<T>(q: Queryable, sql: string, params: readonly SqlValue[]): Promise<T[]> {
  return (await raw(q, sql, params)).rows as T[];
}

function unavailable(e: unknown): AppError {
  return new AppError('INDEX_UNAVAILABLE', { detail: `PostgreSQL: ${(e as { code?: string }).code ?? (e as Error).message}`, cause: e });
}

/** Connection and resource failures are retryable INDEX_UNAVAILABLE; SQL errors are bugs and pass through. */
function translate(e: unknown): unknown {
  const code = (e as { code?: string }).code ?? '';
  if (/^(08|53|57|58)/.test(code) || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND'].includes(code)) return unavailable(e);
  return e;
}
