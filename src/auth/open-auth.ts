// One call for main.ts: opens the auth tables in the index file, the audit log (table + JSON-lines
// file), the AuthService, and checks readiness (first-start admin from the environment; refuse to
// serve with authentication on and no user).
import { join } from 'node:path';
import type { Logger } from '../core/log.ts';
import { AuditLog } from './audit-log.ts';
import { AuthService } from './auth-service.ts';
import { checkAuthReady, type AuthReadiness } from './bootstrap.ts';
import { openSqliteAuth } from './open-sqlite-auth.ts';
import { PgAuth } from './postgres/pg-auth.ts';
import type { AuditStore } from './audit-event.ts';
import type { UserStore } from './user-store.ts';

export interface AuthRuntime {
  /** null when authentication is off (--dev). */
  service: AuthService | null;
  audit: AuditLog;
  readiness: AuthReadiness;
  close(): Promise<void>;
}

export interface OpenAuthOptions {
  dataDir: string;
  enabled: boolean;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  sessionTtlSeconds?: number;
  /** index.kind "postgres": the tables go to this database and schema instead of <dataDir>/index.sqlite. */
  postgres?: { url: string; schema: string };
}

export async function openAuth(opts: OpenAuthOptions): Promise<AuthRuntime> {
  let users: UserStore;
  let auditStore: AuditStore;
  let close: () => Promise<void>;
  if (opts.postgres) {
    const pgAuth = await PgAuth.open(opts.postgres.url, opts.postgres.schema);
    users = pgAuth;
    auditStore = pgAuth;
    close = () => pgAuth.close();
  } else {
    const db = openSqliteAuth(join(opts.dataDir, 'index.sqlite'));
    users = db.users;
    auditStore = db.audit;
    close = async () => db.close();
  }
  // The JSON-lines copy stays local either way: it is what survives a lost database.
  const audit = new AuditLog({ store: auditStore, file: join(opts.dataDir, 'audit.log'), logger: opts.logger });
  const service = new AuthService({ store: users, ...(opts.sessionTtlSeconds !== undefined ? { sessionTtlSeconds: opts.sessionTtlSeconds } : {}) });
  const readiness = await checkAuthReady(users, opts.env, { auth: { enabled: opts.enabled } });
  if (readiness.ok && readiness.createdAdmin !== null) {
    opts.logger.info('first start: admin user created from the environment', { user: readiness.createdAdmin });
    await audit.record({ actor: 'env', action: 'user.add', resource: readiness.createdAdmin, ip: null, outcome: 'success', detail: { via: 'bootstrap' } });
  }
  return { service: opts.enabled ? service : null, audit, readiness, close };
}
