// POST /studies/{id}/send: the manual route trigger. The body names where to send the whole study:
// configured destinations (`destinations` of the config: DICOM peer, DICOMweb, folder) or a known
// DICOM peer (`dicom.peers`, queued as destination `peer:<AET>`):
//   "PACS_Y" | ["PACS_Y", "DISK"] | { "Destinations": [...] } | { "Peer": "ORTHANC2" }
// One job per destination through the durable route queues (retries, dead letters, per-study
// lock). Answers Orthanc's asynchronous-job shape { ID, Path } (the first job) plus every job in
// `Jobs`. Uploader or admin; audited as an export, since the study leaves the archive.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { isResourceId } from '../../index/resource-ids.ts';
import { peerDestination } from '../../pipeline/route-queue.ts';
import { readIndex } from '../archive-scope.ts';
import type { RestDeps } from '../rest/rest-deps.ts';

export interface StudySendDeps {
  /** Queues one route job per destination for every instance of the study; returns the job ids. */
  send(studyId: string, destinations: readonly string[]): Promise<readonly { id: string }[]>;
}

export { peerDestination };

export function parseSendBody(body: unknown): string[] {
  const names = (v: unknown): string[] | undefined => (typeof v === 'string' ? [v] : Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined);
  let out: string[] | undefined;
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    const b = body as Record<string, unknown>;
    const keys = Object.keys(b);
    if (keys.length === 1 && (keys[0] === 'Destinations' || keys[0] === 'Destination')) out = names(b[keys[0]!]);
    else if (keys.length === 1 && keys[0] === 'Peer' && typeof b.Peer === 'string') out = [peerDestination(b.Peer)];
  } else out = names(body);
  if (!out || out.length === 0 || out.some((n) => n === '' || n.length > 200)) {
    throw new AppError('QUERY_INVALID', { detail: 'body: a destination name, a list of them, {"Destinations": [...]} or {"Peer": "<AET>"}' });
  }
  return [...new Set(out)];
}

export function studySendRoutes(s: StudySendDeps): FastifyPluginAsync<RestDeps> {
  return async (app, deps) => {
    app.post<{ Params: { id: string } }>('/studies/:id/send', { config: { role: 'uploader' } }, async (req: FastifyRequest<{ Params: { id: string } }>) => {
      const id = req.params.id;
      if (!isResourceId(id)) throw new AppError('INDEX_NOT_FOUND', { detail: `study ${id}` });
      const destinations = parseSendBody(req.body);
      const actor = req.principal?.user.username ?? null;
      try {
        // Only a study the caller may see may leave (per-project access lists, docs/security.md);
        // one outside the caller's projects answers as absent.
        if (!(await readIndex(req, deps.archive.index).getResource('study', id))) throw new AppError('INDEX_NOT_FOUND', { detail: `study ${id}` });
        const jobs = await s.send(id, destinations);
        await deps.audit.record({ actor, action: 'export', resource: id, ip: req.ip, outcome: 'success', detail: { via: 'send', destinations: destinations.join(','), jobs: jobs.map((j) => j.id).join(',') } });
        const first = jobs[0]!;
        return { ID: first.id, Path: `/jobs/${first.id}`, Jobs: jobs.map((j, i) => ({ ID: j.id, Path: `/jobs/${j.id}`, Destination: destinations[i] })) };
      } catch (e) {
        await deps.audit.record({ actor, action: 'export', resource: id, ip: req.ip, outcome: 'failure', detail: { via: 'send', destinations: destinations.join(','), code: (e as AppError).code ?? null } });
        throw e;
      }
    });
  };
}
