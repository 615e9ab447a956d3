// Opens the pseudonym key database the configuration names: SQLite in the data folder by default,
// PostgreSQL (its own schema) when the index is on PostgreSQL. Used by serve and the CLI alike.
import { join } from 'node:path';
import type { Secret } from '../core/secret.ts';
import type { PseudonymStore } from './pseudonym-store.ts';
import { SqlitePseudonymStore } from './sqlite/sqlite-pseudonym-store.ts';

export interface KeyStoreSettings {
  dataDir: string;
  kind: 'sqlite' | 'postgres';
  postgres: { url: Secret | null; keysSchema: string };
}

export const KEYS_FILE = 'keys.sqlite';

export async function openKeyStore(s: KeyStoreSettings): Promise<PseudonymStore> {
  let store: PseudonymStore;
  if (s.kind === 'postgres' && s.postgres.url) {
    // Loaded on demand: SQLite users do not pay for the pg driver's import.
    const [{ default: pg }, { PgPseudonymStore }] = await Promise.all([import('pg'), import('./postgres/pg-pseudonym-store.ts')]);
    const pool = new pg.Pool({ connectionString: s.postgres.url.reveal(), max: 8 });
    const pgStore = new PgPseudonymStore(pool, { schema: s.postgres.keysSchema });
    const close = pgStore.close.bind(pgStore);
    pgStore.close = async () => {
      await close();
      await pool.end();
    };
    store = pgStore;
  } else {
    store = new SqlitePseudonymStore(join(s.dataDir, KEYS_FILE));
  }
  await store.migrate();
  return store;
}
