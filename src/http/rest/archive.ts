// GET /{patients|studies|series}/{id}/archive: a ZIP of every instance below the resource,
// streamed (one file's bytes in flight at a time). Paths use UIDs, never names or patient IDs:
//   <StudyInstanceUID>/<Modality>_<SeriesInstanceUID>/<SOPInstanceUID>.dcm
import type { FastifyPluginAsync } from 'fastify';
import type { Level, ResourceRecord } from '../../index/archive-index.ts';
import { isResourceId } from '../../index/resource-ids.ts';
import { readIndex } from '../archive-scope.ts';
import { notFound } from './orthanc-errors.ts';
import { LEVEL_PATH, LEVEL_TYPE } from './orthanc-json.ts';
import { READ, type RestDeps } from './rest-deps.ts';
import { zipStream, type ZipEntry } from './zip-writer.ts';

const safe = (s: string | null | undefined, fallback: string) => (s ?? '').replace(/[^0-9A-Za-z.]/g, '') || fallback;

export const archiveRoutes: FastifyPluginAsync<RestDeps> = async (app, deps) => {
  const { blobs } = deps.archive;
  const levels: Exclude<Level, 'instance'>[] = ['patient', 'study', 'series'];
  for (const level of levels) {
    app.get<{ Params: { id: string } }>(`/${LEVEL_PATH[level]}/:id/archive`, { config: { role: READ } }, async (req, reply) => {
      const index = readIndex(req, deps.archive.index);
      const root = isResourceId(req.params.id) ? await index.getResource(level, req.params.id) : undefined;
      if (!root) throw notFound(LEVEL_TYPE[level], req.params.id);
      const instances = await index.listInstances(level, root.id);
      await deps.audit.record({
        actor: req.principal?.user.username ?? null,
        action: 'export',
        resource: root.id,
        ip: req.ip,
        outcome: 'success',
        detail: { route: `/${LEVEL_PATH[level]}/:id/archive`, instances: instances.length },
      });
      const seriesCache = new Map<string, ResourceRecord | undefined>();
      const studyCache = new Map<string, ResourceRecord | undefined>();
      async function* entries(): AsyncGenerator<ZipEntry> {
        for (const inst of instances) {
          if (!inst.file) continue;
          const seriesId = inst.parentId ?? '';
          if (!seriesCache.has(seriesId)) seriesCache.set(seriesId, await index.getResource('series', seriesId));
          const series = seriesCache.get(seriesId);
          const studyId = series?.parentId ?? '';
          if (!studyCache.has(studyId)) studyCache.set(studyId, await index.getResource('study', studyId));
          const study = studyCache.get(studyId);
          const name = `${safe(study?.tags.StudyInstanceUID, studyId)}/${safe(series?.tags.Modality, 'OT')}_${safe(series?.tags.SeriesInstanceUID, seriesId)}/${safe(inst.tags.SOPInstanceUID, inst.id)}.dcm`;
          const key = inst.file.blobKey;
          yield { name, data: () => blobs.createReadStream(key) };
        }
      }
      reply.header('Content-Type', 'application/zip');
      reply.header('Content-Disposition', `attachment; filename="${root.id}.zip"`);
      return reply.send(zipStream(entries()));
    });
  }
};
