// What the honest-broker surface needs, and who may use it. The broker routes are the only HTTP
// routes that answer with original (identifying) patient IDs and serve quarantined originals.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuditLog } from '../../auth/audit-log.ts';
import { canAccessProject } from '../../auth/auth-service.ts';
import type { Logger } from '../../core/log.ts';
import type { ArchiveIndex } from '../../index/archive-index.ts';
import type { PseudonymStore } from '../../pseudonyms/pseudonym-store.ts';
import type { GatewayProject, GatewayService } from '../../services/gateway.ts';
import type { QuarantineStore } from '../../services/quarantine.ts';
import { sendAuthError } from '../auth/http-errors.ts';

export interface BrokerDeps {
  /** The pseudonym key database (identifiable side). */
  keys: PseudonymStore;
  quarantine: QuarantineStore;
  /** De-identify then ingest: how a released quarantine item reaches the archive. */
  gateway: GatewayService;
  /** The project of that name (configured or built-in) with its pseudonymizer, or undefined. */
  projectFor(name: string): GatewayProject | undefined;
  /** The archive, to list a looked-up patient's (de-identified) studies; absent: no study list. */
  archive?: { index: ArchiveIndex };
  audit: AuditLog;
  logger: Logger;
}

/** Route policy of every broker route (admin additionally needs the broker role: see brokerOnly). */
export const BROKER = 'broker' as const;

/**
 * Separation of duties: re-identification needs the broker role itself, admin alone is not enough
 * (an administrator who must act as broker grants the role to themselves, which the audit log
 * records as user.update). The auth hook lets admin through every declared policy, so this scope
 * hook narrows it. --dev (no authentication) stays all-powerful, as everywhere.
 */
export function brokerOnly(audit: AuditLog) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const p = req.principal;
    if (p === null || p.via === 'dev' || p.user.roles.includes('broker')) return undefined;
    await audit.record({ actor: p.user.username, action: 'auth.denied', resource: null, ip: req.ip, outcome: 'denied', detail: { method: req.method, route: req.routeOptions.url ?? null, reason: 'broker role required' } });
    return sendAuthError(reply, 'AUTH_FORBIDDEN', 'the honest-broker role is required (administrators are not brokers by default)');
  };
}

/** Whether the caller may act on this project's keys (the user's project list, as for uploads). */
export function mayUseProject(req: FastifyRequest, project: string): boolean {
  const p = req.principal;
  return p !== null && (p.via === 'dev' || canAccessProject(p.user, project));
}
