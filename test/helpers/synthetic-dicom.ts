// Builds small, valid Part-10 files (explicit VR little endian) without the DICOM core, so archive
// tests do not depend on the reader they exercise. Used by the ingest/import tests and the crash test.
// The encoder is the benchmark generators' own (bench/tiny-dicom.ts), which imports nothing from src/.
import { fileMeta, monochrome2, part10, str, type El } from '../../bench/tiny-dicom.ts';

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
    ds.push(...monochrome2(size, size, 16, 12, false));
    const pixels = Buffer.alloc(size * size * 2);
    // A cheap gradient, so files are not all zeros (compressing filesystems would flatter the numbers).
    for (let i = 0; i < pixels.length; i += 2) pixels.writeUInt16LE((i * 7 + (o.instanceNumber ?? 0)) & 0x0fff, i);
    ds.push([0x7fe0, 0x0010, 'OW', pixels]);
  }
  return part10(fileMeta(CT_IMAGE_STORAGE, o.sopInstanceUid, '1.2.826.0.1.3680043.10.1'), ds);
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
