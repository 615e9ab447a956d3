// The real dicomgate server for browser tests: startServer() from src/main.ts (the composition
// root `dicomgate serve` uses) on a scratch data folder, HTTP and DICOM on port 0, with one user
// per role created beforehand in the data folder's user table (as `dicomgate users add` does).
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthService } from '../../src/auth/auth-service.ts';
import { openSqliteAuth } from '../../src/auth/open-sqlite-auth.ts';
import { ROLES } from '../../src/auth/roles.ts';
import { defaultConfig, type ResolvedConfig } from '../../src/config/schema.ts';
import { silentLogger } from '../../src/core/log.ts';
import { startServer } from '../../src/main.ts';
import type { IngestService } from '../../src/services/ingest.ts';

export const PASSWORD = 'a long enough password';

export interface E2eServer {
  url: string;
  /** The DICOM listener's port (for storescu into an intake). */
  dicomPort: number;
  ingest: IngestService;
  /** Stores every file under these paths (recursively); returns how many were stored. */
  importFiles(...paths: string[]): Promise<number>;
  close(): Promise<void>;
}

function walk(p: string, out: string[]): string[] {
  if (statSync(p).isDirectory()) for (const n of readdirSync(p).sort()) walk(join(p, n), out);
  else out.push(p);
  return out;
}

/** `configure` adjusts the configuration before start (destinations, pipelines, jobs…). */
export async function startE2eServer(opts: { auth?: boolean; configure?: (c: ResolvedConfig) => ResolvedConfig } = {}): Promise<E2eServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'dicomgate-e2e-'));
  const enabled = opts.auth ?? true;
  if (enabled) {
    const db = openSqliteAuth(join(dataDir, 'index.sqlite'));
    const auth = new AuthService({ store: db.users });
    for (const role of ROLES) await auth.addUser(`u-${role}`, PASSWORD, [role], ['*']);
    db.close();
  }
  const base = defaultConfig();
  const plain: ResolvedConfig = {
    ...base,
    dataDir,
    host: '127.0.0.1',
    dev: !enabled,
    dicom: { ...base.dicom, port: 0 },
    http: { ...base.http, port: 0 },
    auth: { ...base.auth, enabled },
    log: { level: 'silent' as const },
  };
  const config = opts.configure ? opts.configure(plain) : plain;
  let running;
  try {
    running = await startServer(config, silentLogger);
  } catch (e) {
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  const server = running;
  const ingest = server.archive.ingest;
  return {
    url: `http://127.0.0.1:${server.httpPort}`,
    dicomPort: server.dicomPort,
    ingest,
    async importFiles(...paths) {
      let stored = 0;
      for (const f of paths.flatMap((p) => walk(p, []))) {
        if (f.endsWith('.gz') || f.endsWith('.json') || f.endsWith('.md') || f.endsWith('.txt')) continue;
        const r = await ingest.ingest(readFileSync(f), { transport: 'import' });
        if (r.status === 'stored') stored++;
      }
      return stored;
    },
    async close() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
