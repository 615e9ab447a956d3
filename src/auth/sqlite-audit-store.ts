// AuditStore on the audit_log table (append-only: triggers refuse UPDATE and DELETE).
import type Database from 'better-sqlite3';
import { AppError } from '../core/errors.ts';
import type { AuditEvent, AuditQuery, AuditStore, StoredAuditEvent } from './audit-event.ts';

interface Row {
  seq: number;
  at: string;
  actor: string | null;
  action: string;
  resource: string | null;
  ip: string | null;
  outcome: AuditEvent['outcome'];
  detail: string | null;
}

export const AUDIT_MAX_PAGE = 1000;

export class SqliteAuditStore implements AuditStore {
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  async append(e: AuditEvent): Promise<number> {
    try {
      const r = this.#db
        .prepare('INSERT INTO audit_log (at, actor, action, resource, ip, outcome, detail) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(e.at, e.actor, e.action, e.resource, e.ip, e.outcome, e.detail === undefined ? null : JSON.stringify(e.detail));
      return Number(r.lastInsertRowid);
    } catch (cause) {
      throw new AppError('AUTH_STORE_UNAVAILABLE', { detail: 'append audit record', cause });
    }
  }

  async list(q: AuditQuery): Promise<StoredAuditEvent[]> {
    const where: string[] = ['seq > @since'];
    const params: Record<string, unknown> = { since: q.since ?? 0, limit: Math.min(Math.max(q.limit ?? 100, 1), AUDIT_MAX_PAGE) };
    if (q.actor !== undefined) {
      where.push('actor = @actor');
      params.actor = q.actor;
    }
    if (q.action !== undefined) {
      where.push('action = @action');
      params.action = q.action;
    }
    try {
      const rows = this.#db.prepare(`SELECT * FROM audit_log WHERE ${where.join(' AND ')} ORDER BY seq LIMIT @limit`).all(params) as Row[];
      return rows.map((r) => {
        const e: StoredAuditEvent = { seq: r.seq, at: r.at, actor: r.actor, action: r.action, resource: r.resource, ip: r.ip, outcome: r.outcome };
        if (r.detail !== null) e.detail = JSON.parse(r.detail) as StoredAuditEvent['detail'];
        return e;
      });
    } catch (cause) {
      throw new AppError('AUTH_STORE_UNAVAILABLE', { detail: 'read audit log', cause });
    }
  }
}
