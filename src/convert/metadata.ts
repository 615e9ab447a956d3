// Patient, study and series attributes for converted instances: from a reference DICOM (--like),
// a JSON sidecar and command-line options, later sources overriding earlier ones.
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Dataset, looksLikeDicom, lookup, readPart10Header, tagForKeyword, type Tag, type VR } from '../dicom/index.ts';
import { convertError } from './picture.ts';
import { isValidUid } from './uid.ts';

/** keyword → value; numbers and arrays become multi-valued strings. */
export type AttributeValues = Record<string, string | number | (string | number)[]>;

export interface Attribute {
  tag: Tag;
  vr: VR;
  value: string;
}

/** The attributes --like copies: the Patient and General Study modules (PS3.3 C.7.1.1, C.7.2.1),
 *  plus Patient Study, so the new series sits in that study for every viewer and archive. */
export const LIKE_KEYWORDS = [
  'PatientName', 'PatientID', 'IssuerOfPatientID', 'PatientBirthDate', 'PatientBirthTime', 'PatientSex', 'OtherPatientIDs',
  'EthnicGroup', 'PatientComments', 'PatientIdentityRemoved', 'DeidentificationMethod',
  'StudyInstanceUID', 'StudyDate', 'StudyTime', 'ReferringPhysicianName', 'StudyID', 'AccessionNumber', 'StudyDescription',
  'PatientAge', 'PatientSize', 'PatientWeight',
] as const;

/** What a sidecar or option may not set: the converter owns identity, pixel and geometry attributes. */
const OWNED = new Set(['SOPClassUID', 'SOPInstanceUID', 'SeriesInstanceUID', 'InstanceNumber', 'SpecificCharacterSet', 'NumberOfFrames', 'Modality',
  'ImagePositionPatient', 'ImageOrientationPatient', 'PixelSpacing', 'TransferSyntaxUID']);

/** Resolves and checks keyword/value pairs (sidecar or options). `where` names the source in errors. */
export function attributesFrom(values: AttributeValues, where: string): Attribute[] {
  const out: Attribute[] = [];
  for (const [keyword, raw] of Object.entries(values)) {
    if (raw === undefined || raw === null) continue;
    const tag = tagForKeyword(keyword);
    const entry = tag === undefined ? undefined : lookup(tag);
    if (tag === undefined || !entry) throw convertError('CONVERT_METADATA_INVALID', where, `unknown DICOM keyword "${keyword.slice(0, 64)}"`);
    const group = tag >>> 16;
    const vr = String(entry.vr).split(/ or |\//)[0] as VR;
    if (OWNED.has(keyword) || group === 0x0002 || group === 0x0028 || group === 0x7fe0 || ['SQ', 'OB', 'OW', 'OF', 'OD', 'OL', 'OV', 'UN'].includes(vr)) {
      throw convertError('CONVERT_METADATA_INVALID', where, `${keyword} cannot be set (the converter writes it, or it is not a text attribute)`);
    }
    const value = (Array.isArray(raw) ? raw : [raw]).map(String).join('\\');
    if (vr === 'UI' && value !== '' && !isValidUid(value)) throw convertError('CONVERT_METADATA_INVALID', where, `${keyword} is not a valid UID`);
    out.push({ tag, vr, value });
  }
  return out;
}

export async function readSidecar(path: string): Promise<Attribute[]> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw convertError('CONVERT_METADATA_INVALID', path, `cannot read JSON sidecar (${(e as Error).message})`, e);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw convertError('CONVERT_METADATA_INVALID', path, 'sidecar must be a JSON object of DICOM keyword → value');
  }
  return attributesFrom(json as AttributeValues, path);
}

/** Patient and study attributes of a reference instance (or of the first DICOM file found in a
 *  study folder), decoded with its character set. */
export async function readLike(path: string): Promise<Attribute[]> {
  let ds: Dataset;
  try {
    ds = (await readPart10Header(await firstDicomFile(path))).dataset;
  } catch (e) {
    throw convertError('CONVERT_METADATA_INVALID', path, `cannot read the reference DICOM (${(e as Error).message})`, e);
  }
  const out: Attribute[] = [];
  for (const keyword of LIKE_KEYWORDS) {
    const tag = tagForKeyword(keyword)!;
    const vr = ds.vr(tag);
    if (vr === undefined) continue;
    out.push({ tag, vr: vr === 'UN' ? (lookup(tag)!.vr as VR) : vr, value: ds.strings(tag).join('\\') });
  }
  if (!out.some((a) => a.tag === tagForKeyword('StudyInstanceUID'))) {
    throw convertError('CONVERT_METADATA_INVALID', path, 'the reference DICOM has no StudyInstanceUID');
  }
  return out;
}

/** Later lists override earlier ones, attribute by attribute. */
export function mergeAttributes(...lists: Attribute[][]): Attribute[] {
  const byTag = new Map<Tag, Attribute>();
  for (const list of lists) for (const a of list) byTag.set(a.tag, a);
  return [...byTag.values()].sort((a, b) => a.tag - b.tag);
}

async function firstDicomFile(path: string): Promise<string> {
  if (!(await stat(path)).isDirectory()) return path;
  const entries = (await readdir(path, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    const full = join(path, e.name);
    if (e.isDirectory()) {
      const found = await firstDicomFile(full).catch(() => undefined);
      if (found !== undefined) return found;
    } else if (e.isFile() && looksLikeDicom(await head(full, 256))) {
      return full;
    }
  }
  throw new Error('no DICOM file in the folder');
}

async function head(path: string, n: number): Promise<Uint8Array> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}
