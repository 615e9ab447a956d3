// GET /{patients|studies|series}/{id}/archive: a ZIP of every instance below the resource,
// streamed (one file's bytes in flight at a time). Paths use UIDs, never names or patient IDs:
//   <StudyInstanceUID>/<Modality>_<SeriesInstanceUID>/<SOPInstanceUID>.dcm
import type { ResourceRecord } from '../../index/archive-index.ts';
import { zipDownloadRoutes } from './zip-download.ts';
import type { ZipEntry } from './zip-writer.ts';

const safe = (s: string | null | undefined, fallback: string) => (s ?? '').replace(/[^0-9A-Za-z.]/g, '') || fallback;

export const archiveRoutes = zipDownloadRoutes('archive', async (index, level, root, deps) => {
  const { blobs } = deps.archive;
  const instances = await index.listInstances(level, root.id);
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
  return { instances: instances.length, entries: entries() };
});
