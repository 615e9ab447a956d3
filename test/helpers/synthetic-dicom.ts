// Builds small, valid Part-10 files (explicit VR little endian) without the DICOM core, so archive
// tests do not depend on the reader they exercise. Used by the ingest/import tests and the crash test.
export interface SyntheticInstance {
  patientId?: string;
  patientName?: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  studyDate?: string;
  modality?: string;
  instanceNumber?: number;
  /** Pixel matrix side; 0 for no PixelData. 512 makes a 512 KiB CT slice. */
  size?: number;
}

const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';

type El = [group: number, element: number, vr: string, value: Buffer];

function str(s: string, vr: string): Buffer {
  const b = Buffer.from(s, 'latin1');
  if (b.length % 2 === 0) return b;
  return Buffer.concat([b, Buffer.from(vr === 'UI' ? [0] : [0x20])]);
}

function us(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}

function encode(elements: El[]): Buffer {
  const parts: Buffer[] = [];
  for (const [g, e, vr, v] of elements.sort((a, b) => a[0] - b[0] || a[1] - b[1])) {
    const long = ['OB', 'OW', 'SQ', 'UN', 'UT'].includes(vr);
    const h = Buffer.alloc(long ? 12 : 8);
    h.writeUInt16LE(g, 0);
    h.writeUInt16LE(e, 2);
    h.write(vr, 4, 'latin1');
    if (long) h.writeUInt32LE(v.length, 8);
    else h.writeUInt16LE(v.length, 6);
    parts.push(h, v);
  }
  return Buffer.concat(parts);
}

export function syntheticInstance(o: SyntheticInstance): Buffer {
  const size = o.size ?? 0;
  const ds: El[] = [
    [0x0008, 0x0016, 'UI', str(CT_IMAGE_STORAGE, 'UI')],
    [0x0008, 0x0018, 'UI', str(o.sopInstanceUid, 'UI')],
    [0x0008, 0x0020, 'DA', str(o.studyDate ?? '20240101', 'DA')],
    [0x0008, 0x0060, 'CS', str(o.modality ?? 'CT', 'CS')],
    [0x0010, 0x0010, 'PN', str(o.patientName ?? 'Test^Patient', 'PN')],
    [0x0020, 0x000d, 'UI', str(o.studyInstanceUid, 'UI')],
    [0x0020, 0x000e, 'UI', str(o.seriesInstanceUid, 'UI')],
    [0x0020, 0x0013, 'IS', str(String(o.instanceNumber ?? 1), 'IS')],
  ];
  if (o.patientId !== undefined) ds.push([0x0010, 0x0020, 'LO', str(o.patientId, 'LO')]);
  if (size > 0) {
    ds.push(
      [0x0028, 0x0002, 'US', us(1)],
      [0x0028, 0x0004, 'CS', str('MONOCHROME2', 'CS')],
      [0x0028, 0x0010, 'US', us(size)],
      [0x0028, 0x0011, 'US', us(size)],
      [0x0028, 0x0100, 'US', us(16)],
      [0x0028, 0x0101, 'US', us(12)],
      [0x0028, 0x0102, 'US', us(11)],
      [0x0028, 0x0103, 'US', us(0)],
    );
    const pixels = Buffer.alloc(size * size * 2);
    // A cheap gradient, so files are not all zeros (compressing filesystems would flatter the numbers).
    for (let i = 0; i < pixels.length; i += 2) pixels.writeUInt16LE((i * 7 + (o.instanceNumber ?? 0)) & 0x0fff, i);
    ds.push([0x7fe0, 0x0010, 'OW', pixels]);
  }
  const body = encode(ds);
  const metaBody = encode([
    [0x0002, 0x0001, 'OB', Buffer.from([0, 1])],
    [0x0002, 0x0002, 'UI', str(CT_IMAGE_STORAGE, 'UI')],
    [0x0002, 0x0003, 'UI', str(o.sopInstanceUid, 'UI')],
    [0x0002, 0x0010, 'UI', str(EXPLICIT_LE, 'UI')],
    [0x0002, 0x0012, 'UI', str('1.2.826.0.1.3680043.10.1', 'UI')],
  ]);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(metaBody.length);
  const meta = Buffer.concat([encode([[0x0002, 0x0000, 'UL', groupLength]]), metaBody]);
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), meta, body]);
}

/** A series of `count` instances with UIDs derived from `seed`. */
export function syntheticSeries(seed: string, count: number, opts: Partial<SyntheticInstance> = {}): Buffer[] {
  const study = `2.25.${seed}`;
  return Array.from({ length: count }, (_, i) =>
    syntheticInstance({
      patientId: 'PID-' + seed, patientName: 'Synthetic^Patient', studyInstanceUid: study,
      seriesInstanceUid: `${study}.1`, sopInstanceUid: `${study}.1.${i + 1}`, instanceNumber: i + 1, ...opts,
    }),
  );
}
