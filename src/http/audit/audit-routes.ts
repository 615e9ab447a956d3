// GET /audit (admin): pages through the audit log, oldest first. ?since=<seq>&limit=&actor=&action=
import type { FastifyPluginAsync } from 'fastify';
import type { AuditLog } from '../../auth/audit-log.ts';
import { AUDIT_MAX_PAGE } from '../../auth/sqlite-audit-store.ts';

const query = {
  type: 'object',
  additionalProperties: false,
  properties: {
    since: { type: 'integer', minimum: 0 },
    limit: { type: 'integer', minimum: 1, maximum: AUDIT_MAX_PAGE },
    actor: { type: 'string', maxLength: 64 },
    action: { type: 'string', maxLength: 64 },
  },
} as const;

export const auditRoutes: FastifyPluginAsync<{ audit: AuditLog }> = async (app, opts) => {
  app.get<{ Querystring: { since?: number; limit?: number; actor?: string; action?: string } }>(
    '/audit',
    { config: { role: 'admin' }, schema: { querystring: query } },
    async (req, reply) => {
      const events = await opts.audit.list(req.query);
      reply.header('Cache-Control', 'no-store');
      return { events, next: events.length > 0 ? events[events.length - 1].seq : (req.query.since ?? 0) };
    },
  );
};
