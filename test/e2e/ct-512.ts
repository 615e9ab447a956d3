// A 512 x 512 CT series for the "first image under a second" check: the corpus CTs are 256² or
// smaller, so slices of test/fixtures/dicom/CT_small.dcm are re-sized (nearest neighbour) with
// fresh UIDs. Patient data stays the fixture's (pydicom test data, no real patient).
import { readFileSync } from 'node:fs';
import { readPart10, T, writePart10, PIXEL_DATA } from '../../src/dicom/index.ts';

const SIZE = 512;

export function ct512Series(fixture: string, slices: number, patient?: { id: string; name: string }): Buffer[] {
  const src = readPart10(readFileSync(fixture));
  const rows = src.dataset.number(T.Rows)!;
  const cols = src.dataset.number(T.Columns)!;
  const pixels = src.dataset.bytes(PIXEL_DATA)!;
  const inView = new DataView(pixels.buffer, pixels.byteOffset, pixels.byteLength);
  const big = new Uint8Array(SIZE * SIZE * 2);
  const out = new DataView(big.buffer);
  for (let r = 0; r < SIZE; r++) {
    for (let c = 0; c < SIZE; c++) out.setUint16((r * SIZE + c) * 2, inView.getUint16((Math.floor((r * rows) / SIZE) * cols + Math.floor((c * cols) / SIZE)) * 2, true), true);
  }
  const stamp = `2.25.${Date.now()}${process.pid}`;
  const files: Buffer[] = [];
  for (let i = 0; i < slices; i++) {
    const f = readPart10(readFileSync(fixture));
    const d = f.dataset;
    d.setString(T.StudyInstanceUID, 'UI', `${stamp}.1`);
    d.setString(T.SeriesInstanceUID, 'UI', `${stamp}.2`);
    d.setString(T.SOPInstanceUID, 'UI', `${stamp}.3.${i + 1}`);
    f.meta.setString(T.MediaStorageSOPInstanceUID, 'UI', `${stamp}.3.${i + 1}`);
    d.setString(T.StudyDescription, 'LO', 'CT 512');
    if (patient) {
      d.setString(T.PatientID, 'LO', patient.id);
      d.setString(T.PatientName, 'PN', patient.name);
    }
    d.setNumbers(T.Rows, 'US', [SIZE]);
    d.setNumbers(T.Columns, 'US', [SIZE]);
    d.setString(T.InstanceNumber, 'IS', String(i + 1));
    d.setString(T.ImagePositionPatient, 'DS', ['-160', '-160', String(i * 2.5)]);
    d.setString(T.PixelSpacing, 'DS', ['0.625', '0.625']);
    d.setBytes(PIXEL_DATA, 'OW', big);
    files.push(Buffer.concat(writePart10(f)));
  }
  return files;
}
