// The DICOMDIR of a folder export (`dicomdir: true` on a folder destination): one DICOMDIR at the
// export root, the root of the file-set (PS3.10 8.6), rebuilt from the files themselves after each
// export job. The root is chosen over one per study folder because the path template decides the
// folders: a study is not always under one folder, while PS3.10 wants File IDs relative to the
// DICOMDIR's own folder. The exporter writes File ID paths (sanitize-path.ts `fileId`: 8 characters
// of A-Z 0-9 _, at most 8 levels), so records reference the real files; a file whose path is not a
// valid File ID (exported before dicomdir was turned on, or someone else's) is left out and counted.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { readPart10Header } from '../dicom/index.ts';
import { T } from '../dicom/tag.ts';
import { buildDicomdir, type DicomdirPatient, type DicomdirSeries, type DicomdirStudy } from './dicomdir.ts';
import { isFileIdComponent } from './sanitize-path.ts';
import { syncDir, writeSynced } from './durable-files.ts';

export const DICOMDIR_NAME = 'DICOMDIR';
/** PS3.10 8.2: a File ID has at most 8 components. */
export const MAX_FILE_ID_COMPONENTS = 8;

export interface DicomdirResult {
  readonly instances: number;
  /** Files left out: path not a File ID, or not readable as DICOM. */
  readonly skipped: number;
}

const str = (v: string | undefined): string | null => (v === undefined ? null : v);

/** Scans `root` and (re)writes `root/DICOMDIR` atomically (temp file, fsync, rename, folder fsync). */
export async function writeFolderDicomdir(root: string): Promise<DicomdirResult> {
  const patients = new Map<string, DicomdirPatient>();
  const studies = new Map<string, DicomdirStudy>();
  const series = new Map<string, DicomdirSeries>();
  let instances = 0;
  let skipped = 0;
  for (const file of await listFiles(root)) {
    const fileId = relative(root, file).split(sep);
    if (fileId.length > MAX_FILE_ID_COMPONENTS || !fileId.every(isFileIdComponent) || fileId[0] === DICOMDIR_NAME) {
      skipped++;
      continue;
    }
    let f;
    try {
      f = await readPart10Header(file);
    } catch {
      skipped++;
      continue;
    }
    const ds = f.dataset;
    const sopClassUid = ds.string(T.SOPClassUID);
    const sopInstanceUid = ds.string(T.SOPInstanceUID);
    const studyUid = ds.string(T.StudyInstanceUID);
    const seriesUid = ds.string(T.SeriesInstanceUID);
    if (!sopClassUid || !sopInstanceUid || !studyUid || !seriesUid) {
      skipped++;
      continue;
    }
    const pid = ds.string(T.PatientID) ?? '';
    let p = patients.get(pid);
    if (!p) patients.set(pid, (p = { tags: { PatientID: pid, PatientName: str(ds.string(T.PatientName)) }, studies: [] }));
    let st = studies.get(`${pid}\\${studyUid}`);
    if (!st) {
      st = {
        tags: {
          StudyInstanceUID: studyUid,
          StudyDate: str(ds.string(T.StudyDate)),
          StudyTime: str(ds.string(T.StudyTime)),
          AccessionNumber: str(ds.string(T.AccessionNumber)),
          StudyDescription: str(ds.string(T.StudyDescription)),
          StudyID: str(ds.string(T.StudyID)),
        },
        series: [],
      };
      studies.set(`${pid}\\${studyUid}`, st);
      p.studies.push(st);
    }
    let se = series.get(`${pid}\\${studyUid}\\${seriesUid}`);
    if (!se) {
      se = { tags: { SeriesInstanceUID: seriesUid, Modality: str(ds.string(T.Modality)), SeriesNumber: str(ds.string(T.SeriesNumber)) }, instances: [] };
      series.set(`${pid}\\${studyUid}\\${seriesUid}`, se);
      st.series.push(se);
    }
    se.instances.push({ fileId, sopClassUid, sopInstanceUid, transferSyntaxUid: f.transferSyntaxUID, instanceNumber: str(ds.string(T.InstanceNumber)) });
    instances++;
  }
  const tree = [...patients.values()];
  inventTypeOneKeys(tree);
  const bytes = await buildDicomdir(tree);
  const tmp = join(root, `.dg-dicomdir-${randomBytes(6).toString('hex')}.tmp`);
  await writeSynced(tmp, bytes);
  await fs.rename(tmp, join(root, DICOMDIR_NAME));
  await syncDir(root);
  return { instances, skipped };
}

/**
 * Type 1 record keys (PS3.3 F.5) the files do not carry get a placeholder, as DCMTK's `dcmmkdir
 * --invent` does: without them dciodvfy (rightly) calls the DICOMDIR invalid and strict readers
 * refuse it. Placeholders are not data: a date/time of 19000101/000000, StudyID and numbers by
 * position.
 */
function inventTypeOneKeys(patients: DicomdirPatient[]): void {
  const blank = (v: string | null | undefined) => v === null || v === undefined || v.trim() === '';
  let studyNo = 0;
  for (const p of patients) {
    if (blank(p.tags.PatientID)) p.tags.PatientID = 'UNKNOWN';
    for (const st of p.studies) {
      studyNo++;
      if (blank(st.tags.StudyDate)) st.tags.StudyDate = '19000101';
      if (blank(st.tags.StudyTime)) st.tags.StudyTime = '000000';
      if (blank(st.tags.StudyID)) st.tags.StudyID = String(studyNo);
      st.series.forEach((se, i) => {
        if (blank(se.tags.SeriesNumber)) se.tags.SeriesNumber = String(i + 1);
        se.instances.forEach((inst, k) => {
          if (blank(inst.instanceNumber)) (inst as { instanceNumber: string | null }).instanceNumber = String(k + 1);
        });
      });
    }
  }
}

/** Regular files under root in a stable order, without our temp files and dot files. */
async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    const entries = await fs.readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  await walk(root);
  return out;
}
