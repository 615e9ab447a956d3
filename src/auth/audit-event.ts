// One audit record. It says who did what to which resource, when and from where; it never holds
// patient data: resources are Orthanc ids or DICOM UIDs, actors are user names.

/** Known actions; other modules may add their own dotted names (e.g. "keys.lookup"). */
export type AuditAction =
  | 'login'
  | 'logout'
  | 'auth.denied'
  | 'user.add'
  | 'user.remove'
  | 'user.passwd'
  | 'user.update'
  | 'token.create'
  | 'token.revoke'
  | 'keys.lookup'
  | 'reidentify'
  | 'download'
  | 'export'
  | 'upload'
  | 'delete'
  | 'anonymize'
  | (string & {});

export interface AuditEvent {
  /** ISO 8601 UTC. */
  at: string;
  /** User name, or null when unknown (a failed login for a name that does not exist keeps the name tried). */
  actor: string | null;
  action: AuditAction;
  /** Orthanc id, UID, user name or token id the action touched. */
  resource: string | null;
  /** Client address as fastify reports it (trust-proxy aware), or "cli". */
  ip: string | null;
  outcome: 'success' | 'failure' | 'denied';
  /** Small structured extras: route, method, auth kind, reason, count. Never dataset values. */
  detail?: Record<string, string | number | boolean | null>;
}

export interface StoredAuditEvent extends AuditEvent {
  seq: number;
}

export interface AuditQuery {
  /** Only events with seq greater than this. */
  since?: number;
  limit?: number;
  actor?: string;
  action?: string;
}

/** Append-only sink and reader of audit events. */
export interface AuditStore {
  append(e: AuditEvent): Promise<number>;
  list(q: AuditQuery): Promise<StoredAuditEvent[]>;
}
