// What GET /{patients|studies|series}/{id}/archive and /media share: the resource (404 when it is
// unknown or outside the caller's projects), an `export` audit record, and the ZIP streamed as an
// attachment named after the resource id. Each route says only what goes into its ZIP.
import type { FastifyPluginAsync } from 'fastify';
import type { ArchiveIndex, Level, ResourceRecord } from '../../index/archive-index.ts';
import { isResourceId } from '../../index/resource-ids.ts';
import { readIndex } from '../archive-scope.ts';
import { notFound } from './orthanc-errors.ts';
import { LEVEL_PATH, LEVEL_TYPE } from './orthanc-json.ts';
import { READ, type RestDeps } from './rest-deps.ts';
import { zipStream, type ZipEntry } from './zip-writer.ts';

export interface ZipContent {
  /** Instances below the resource, for the audit record. */
  instances: number;
  /** Read lazily, as the ZIP is written. */
  entries: AsyncIterable<ZipEntry> | Iterable<ZipEntry>;
}

/** `index` is already scoped to the caller's projects. */
export type ZipContentOf = (index: ArchiveIndex, level: Exclude<Level, 'instance'>, root: ResourceRecord, deps: RestDeps) => Promise<ZipContent>;

export function zipDownloadRoutes(suffix: string, contentOf: ZipContentOf): FastifyPluginAsync<RestDeps> {
  return async (app, deps) => {
    for (const level of ['patient', 'study', 'series'] as const) {
      const route = `/${LEVEL_PATH[level]}/:id/${suffix}`;
      app.get<{ Params: { id: string } }>(route, { config: { role: READ } }, async (req, reply) => {
        const index = readIndex(req, deps.archive.index);
        const root = isResourceId(req.params.id) ? await index.getResource(level, req.params.id) : undefined;
        if (!root) throw notFound(LEVEL_TYPE[level], req.params.id);
        const content = await contentOf(index, level, root, deps);
        await deps.audit.record({
          actor: req.principal?.user.username ?? null,
          action: 'export',
          resource: root.id,
          ip: req.ip,
          outcome: 'success',
          detail: { route, instances: content.instances },
        });
        reply.header('Content-Type', 'application/zip');
        reply.header('Content-Disposition', `attachment; filename="${root.id}.zip"`);
        return reply.send(zipStream(content.entries));
      });
    }
  };
}
