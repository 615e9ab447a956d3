// GET /{patients|studies|series}/{id}/media: Orthanc's "media" archive, a ZIP with a DICOMDIR at
// its root and the files as IMAGES/IM0, IMAGES/IM1, ... (PS3.10 8.2 file ids: no names, no PHI
// in paths). The DICOMDIR is built from the index and sent first; the files follow, streamed one at
// a time (memory: the index rows of the resource and one DICOMDIR record or file chunk at a time).
import type { ArchiveIndex, Level, ResourceRecord } from '../../index/archive-index.ts';
import { dicomdirChunks, type DicomdirPatient } from './dicomdir.ts';
import { zipDownloadRoutes } from './zip-download.ts';
import type { ZipEntry } from './zip-writer.ts';

/** File id of the n-th file: IMAGES/IMn; past 999,999 files one more folder level (8-character components). */
export function mediaFileId(n: number): string[] {
  return n < 1_000_000 ? ['IMAGES', `IM${n}`] : ['IMAGES', `D${Math.floor(n / 1_000_000)}`, `IM${n % 1_000_000}`];
}

interface Planned {
  patients: DicomdirPatient[];
  files: { fileId: string[]; blobKey: string }[];
}

/** The patient → study → series → instance tree below `root`, in index order, with file ids. */
async function plan(index: ArchiveIndex, level: Exclude<Level, 'instance'>, root: ResourceRecord): Promise<Planned> {
  const instances = await index.listInstances(level, root.id);
  const series = new Map<string, ResourceRecord>();
  const studies = new Map<string, ResourceRecord>();
  const patients = new Map<string, ResourceRecord>();
  const cached = async (m: Map<string, ResourceRecord>, lvl: Level, id: string | undefined) => {
    if (id === undefined) return undefined;
    if (!m.has(id)) {
      const r = await index.getResource(lvl, id);
      if (r) m.set(id, r);
    }
    return m.get(id);
  };
  const out: Planned = { patients: [], files: [] };
  const pNode = new Map<string, DicomdirPatient>();
  const stNode = new Map<string, DicomdirPatient['studies'][number]>();
  const seNode = new Map<string, DicomdirPatient['studies'][number]['series'][number]>();
  for (const inst of instances) {
    if (!inst.file) continue;
    const se = await cached(series, 'series', inst.parentId);
    const st = await cached(studies, 'study', se?.parentId);
    const p = await cached(patients, 'patient', st?.parentId);
    if (!se || !st || !p) continue; // deleted meanwhile
    let pn = pNode.get(p.id);
    if (!pn) {
      pn = { tags: p.tags, studies: [] };
      pNode.set(p.id, pn);
      out.patients.push(pn);
    }
    let stn = stNode.get(st.id);
    if (!stn) {
      stn = { tags: st.tags, series: [] };
      stNode.set(st.id, stn);
      pn.studies.push(stn);
    }
    let sen = seNode.get(se.id);
    if (!sen) {
      sen = { tags: se.tags, instances: [] };
      seNode.set(se.id, sen);
      stn.series.push(sen);
    }
    const fileId = mediaFileId(out.files.length);
    out.files.push({ fileId, blobKey: inst.file.blobKey });
    sen.instances.push({
      fileId,
      sopClassUid: inst.tags.SOPClassUID ?? '',
      sopInstanceUid: inst.tags.SOPInstanceUID ?? '',
      transferSyntaxUid: inst.file.transferSyntaxUid,
      instanceNumber: inst.tags.InstanceNumber ?? null,
    });
  }
  return out;
}

export const mediaRoutes = zipDownloadRoutes('media', async (index, level, root, deps) => {
  const { blobs } = deps.archive;
  const planned = await plan(index, level, root);
  function* entries(): Generator<ZipEntry> {
    yield { name: 'DICOMDIR', data: () => dicomdirChunks(planned.patients) };
    for (const f of planned.files) yield { name: f.fileId.join('/'), data: () => blobs.createReadStream(f.blobKey) };
  }
  return { instances: planned.files.length, entries: entries() };
});
