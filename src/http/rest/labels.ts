// Orthanc labels (1.12): GET /{level}/{id}/labels, PUT|DELETE /{level}/{id}/labels/{label},
// GET /tools/labels. Labels are kept in the index (resource_labels), so /tools/find can match them
// (Labels + LabelsConstraint, see find.ts). Reads and writes go through the caller's project scope:
// a resource outside it answers 404 and its labels are not listed.
import type { FastifyPluginAsync } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { isResourceId, LEVELS } from '../../index/resource-ids.ts';
import { readIndex } from '../archive-scope.ts';
import { notFound } from './orthanc-errors.ts';
import { LEVEL_PATH, LEVEL_TYPE } from './orthanc-json.ts';
import { READ, type RestDeps } from './rest-deps.ts';

/** Orthanc's rule (ServerToolbox::CheckValidLabel): letters, digits, "_" and "-", at most 64. */
const LABEL = /^[A-Za-z0-9_-]{1,64}$/;

export function checkLabel(label: string): string {
  if (!LABEL.test(label)) throw new AppError('QUERY_INVALID', { detail: 'a label is 1-64 letters, digits, "_" or "-"' });
  return label;
}

export const labelRoutes: FastifyPluginAsync<RestDeps> = async (app, deps) => {
  for (const level of LEVELS) {
    const path = `/${LEVEL_PATH[level]}/:id/labels`;
    app.get<{ Params: { id: string } }>(path, { config: { role: READ } }, async (req) => {
      const index = readIndex(req, deps.archive.index);
      if (!isResourceId(req.params.id) || !(await index.getResource(level, req.params.id))) throw notFound(LEVEL_TYPE[level], req.params.id);
      return index.labels(level, req.params.id);
    });
    for (const method of ['PUT', 'DELETE'] as const) {
      app.route<{ Params: { id: string; label: string } }>({
        method,
        url: `${path}/:label`,
        config: { role: READ },
        handler: async (req, reply) => {
          const label = checkLabel(req.params.label);
          const index = readIndex(req, deps.archive.index);
          const ok = isResourceId(req.params.id) && (await index.setLabel(level, req.params.id, label, method === 'PUT'));
          if (!ok) throw notFound(LEVEL_TYPE[level], req.params.id);
          await deps.audit.record({ actor: req.principal?.user.username ?? null, action: method === 'PUT' ? 'label.add' : 'label.remove', resource: req.params.id, ip: req.ip, outcome: 'success', detail: { level, label } });
          return reply.type('text/plain').send('');
        },
      });
    }
  }

  app.get('/tools/labels', { config: { role: READ } }, async (req) => readIndex(req, deps.archive.index).allLabels());
};
