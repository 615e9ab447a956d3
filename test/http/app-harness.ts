// Builds the HTTP app as server.ts does (auth first, then surfaces, then /health), with an
// in-memory user database holding one user per role, for inject()-based tests.
import Fastify, { type FastifyInstance } from 'fastify';
import { AuditLog } from '../../src/auth/audit-log.ts';
import { AuthService } from '../../src/auth/auth-service.ts';
import { openSqliteAuth, type SqliteAuth } from '../../src/auth/open-sqlite-auth.ts';
import { ROLES, type Role } from '../../src/auth/roles.ts';
import { createLogger, type Logger } from '../../src/core/log.ts';
import { healthPlugin } from '../../src/http/health/health-plugin.ts';
import { registerSurfaces, type SurfaceDeps } from '../../src/http/surfaces.ts';

export const PASSWORD = 'a long enough password';

export interface Harness {
  app: FastifyInstance;
  auth: AuthService;
  db: SqliteAuth;
  audit: AuditLog;
  logs: string[];
  /** Every route registered, as fastify reports it. */
  routes: { method: string; url: string; config: Record<string, unknown> }[];
  basic(role: Role): string;
  close(): Promise<void>;
}

export interface HarnessOptions {
  enabled?: boolean;
  extra?: (app: FastifyInstance) => Promise<void>;
  surfaces?: Partial<SurfaceDeps>;
  oidc?: NonNullable<SurfaceDeps['auth']['oidc']>;
  /** Project list of every u-<role> user (default ['lung', 'archive']). */
  projects?: string[];
}

export async function buildHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const db = openSqliteAuth(':memory:');
  const auth = new AuthService({ store: db.users });
  // 'archive': the pseudo-project granting data stored without a project (plain uploads), which most tests read.
  for (const role of ROLES) await auth.addUser(`u-${role}`, PASSWORD, [role], opts.projects ?? ['lung', 'archive']);
  const logs: string[] = [];
  const logger: Logger = createLogger({ level: 'debug', stream: { write: (s: string) => logs.push(s) } as unknown as NodeJS.WritableStream });
  const audit = new AuditLog({ store: db.audit, file: null, logger });
  const app = Fastify({ logger: false });
  const routes: Harness['routes'] = [];
  app.addHook('onRoute', (r) => {
    for (const m of [r.method].flat()) routes.push({ method: m, url: r.url, config: (r.config ?? {}) as Record<string, unknown> });
  });
  const enabled = opts.enabled ?? true;
  const { auth: _a, ...surfaces } = opts.surfaces ?? {};
  await registerSurfaces(app, { logger, auth: { enabled, service: enabled ? auth : null, audit, ...(opts.oidc ? { oidc: opts.oidc } : {}) }, ...surfaces });
  await app.register(healthPlugin, { source: async () => ({ status: 'ok', version: 'test', uptimeSeconds: 0, checks: {} }) });
  if (opts.extra) await opts.extra(app);
  await app.ready();
  return {
    app,
    auth,
    db,
    audit,
    logs,
    routes,
    basic: (role) => 'Basic ' + Buffer.from(`u-${role}:${PASSWORD}`).toString('base64'),
    async close() {
      await app.close();
      db.close();
    },
  };
}

/** A concrete URL for a route pattern: parameters become plausible ids. */
export function concreteUrl(url: string): string {
  return url
    .replace(/:([A-Za-z]+)\*?/g, (_m, name: string) => (name.toLowerCase().includes('uid') ? '1.2.3.4' : '00000000-00000000-00000000-00000000-00000000'))
    .replace(/\*/g, 'x');
}
