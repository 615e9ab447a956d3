// Quarantine for the honest broker: list the notes, download an original, release an item (de-identify
// it again, optionally accepting burned-in annotation, and ingest it), or delete it. Items are listed
// only for projects the caller may use. Audit records name the quarantine id (random, not PHI).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.ts';
import type { QuarantineNote } from '../../services/quarantine.ts';
import { BROKER, mayUseProject, type BrokerDeps } from './broker-deps.ts';

type IdParams = { Params: { id: string } };

const releaseSchema = {
  body: {
    type: 'object',
    additionalProperties: false,
    properties: { project: { type: 'string', minLength: 1, maxLength: 64 }, acceptBurnedIn: { type: 'boolean' } },
  },
} as const;

export async function brokerQuarantineRoutes(app: FastifyInstance, deps: BrokerDeps): Promise<void> {
  const { quarantine, audit } = deps;
  const actor = (req: FastifyRequest) => req.principal?.user.username ?? null;

  /** The item's note, if it exists and belongs to a project the caller may use (else 404 alike). */
  async function note(req: FastifyRequest<IdParams>): Promise<QuarantineNote> {
    const found = (await quarantine.list()).find((n) => n.id === req.params.id);
    if (found === undefined || !mayUseProject(req, found.project)) throw new AppError('INDEX_NOT_FOUND', { detail: `quarantine item ${req.params.id}` });
    return found;
  }

  app.get('/broker/quarantine', { config: { role: BROKER } }, async (req) => {
    const items = (await quarantine.list()).filter((n) => mayUseProject(req, n.project));
    await audit.record({ actor: actor(req), action: 'quarantine.list', resource: null, ip: req.ip, outcome: 'success', detail: { items: items.length } });
    return { items };
  });

  app.get<IdParams>('/broker/quarantine/:id/file', { config: { role: BROKER } }, async (req, reply) => {
    const n = await note(req);
    const data = await quarantine.read(n.id);
    await audit.record({ actor: actor(req), action: 'quarantine.download', resource: n.id, ip: req.ip, outcome: 'success', detail: { project: n.project, bytes: data.length } });
    reply.header('Content-Type', 'application/dicom');
    reply.header('Content-Disposition', `attachment; filename="${n.id}.dcm"`);
    return reply.send(data);
  });

  app.post<IdParams & { Body: { project?: string; acceptBurnedIn?: boolean } | undefined }>('/broker/quarantine/:id/release', { config: { role: BROKER }, schema: releaseSchema }, async (req, reply) => {
    const n = await note(req);
    const name = req.body?.project ?? n.project;
    const target = deps.projectFor(name);
    if (target === undefined || !mayUseProject(req, name)) throw new AppError('AUTH_FORBIDDEN', { detail: `project ${name}` });
    const accept = req.body?.acceptBurnedIn === true;
    // The broker looked at the pixels and vouches for them: this one object passes the burned-in check.
    const project = accept ? { ...target.project, burnedIn: { ...target.project.burnedIn, accept: true } } : target.project;
    const original = await quarantine.read(n.id);
    // No pipeline filters: releasing is the broker's decision about this object, taken after them.
    const r = await deps.gateway.process(original, { project, pseudonymizer: target.pseudonymizer }, { transport: 'rest', remoteHost: req.ip });
    const base = { actor: actor(req), action: 'quarantine.release', resource: n.id, ip: req.ip };
    if (r.status === 'quarantined') {
      // Still refused (another reason): the gateway kept a second copy; the original item stays.
      if (r.quarantineId !== '') await quarantine.remove(r.quarantineId);
      await audit.record({ ...base, outcome: 'failure', detail: { project: name, acceptBurnedIn: accept, reason: r.reason } });
      return reply.code(409).send({ error: 'QUARANTINED', message: `still quarantined: ${r.reason}`, reason: r.reason });
    }
    if (r.status === 'rejected') {
      await audit.record({ ...base, outcome: 'failure', detail: { project: name, acceptBurnedIn: accept, reason: r.reason } });
      throw new AppError(r.code, { detail: r.reason });
    }
    await quarantine.remove(n.id);
    // The new (pseudonymous) UIDs are research-side identifiers: fine in the audit detail.
    await audit.record({ ...base, outcome: 'success', detail: { project: name, acceptBurnedIn: accept, status: r.status, sopInstanceUid: r.ingest.sopInstanceUid } });
    return { id: n.id, project: name, status: r.status, instance: r.ingest.ids.instance, study: r.ingest.ids.study, sopInstanceUid: r.ingest.sopInstanceUid };
  });

  app.delete<IdParams>('/broker/quarantine/:id', { config: { role: BROKER } }, async (req, reply) => {
    const n = await note(req);
    await quarantine.remove(n.id);
    await audit.record({ actor: actor(req), action: 'quarantine.delete', resource: n.id, ip: req.ip, outcome: 'success', detail: { project: n.project, reason: n.reason } });
    return reply.code(204).send();
  });
}
