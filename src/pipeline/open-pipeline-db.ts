// Opens the database the pipeline tables live in: the index database (SQLite file or PostgreSQL
// schema), so stable-study state and jobs commit next to the index. Used by main.ts and the CLI.
import pg from 'pg';
import { PgSqlDb } from './pg-sql-db.ts';
import type { SqlDb } from './sql-db.ts';
import { SqliteSqlDb } from './sqlite-sql-db.ts';

export type PipelineDbOptions = { readonly kind: 'sqlite'; readonly path: string } | { readonly kind: 'postgres'; readonly url: string; readonly schema: string; readonly poolSize?: number };

export function openPipelineDb(o: PipelineDbOptions): SqlDb {
  if (o.kind === 'sqlite') return new SqliteSqlDb(o.path);
  return new PgSqlDb(new pg.Pool({ connectionString: o.url, max: o.poolSize ?? 8 }), { schema: o.schema, ownsPool: true });
}
