// Performance measurement (not a test): header-only parse files/s and full parse+write MB/s on
// synthetic 512x512 16-bit CT slices. Round trip = readFileSync + parse + write + writeFileSync. Run: node --import tsx test/dicom/perf.ts [copies]
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writevSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPart10, readPart10Header, writePart10 } from '../../src/dicom/part10.ts';
import { T } from '../../src/dicom/tag.ts';
import { syntheticCT } from './synthetic-ct.ts';

const copies = Number(process.argv[2] ?? 200);
const dir = mkdtempSync(join(tmpdir(), 'dg-perf-'));
try {
  const one = syntheticCT(1);
  const paths: string[] = [];
  for (let i = 0; i < copies; i++) {
    const p = join(dir, `ct${i}.dcm`);
    writeFileSync(p, one);
    paths.push(p);
  }
  for (let round = 0; round < 3; round++) {
    let t0 = performance.now();
    for (const p of paths) {
      const f = await readPart10Header(p);
      if (!f.dataset.string(T.SOPInstanceUID)) throw new Error('no uid');
    }
    const headerMs = performance.now() - t0;
    t0 = performance.now();
    let bytes = 0;
    for (const p of paths) {
      const buf = readFileSync(p);
      const f = readPart10(buf);
      const fd = openSync(join(dir, 'out.dcm'), 'w');
      writevSync(fd, writePart10(f)); // chunks, as the archive writes them: no concatenation copy
      closeSync(fd);
      bytes += buf.length;
    }
    const rtMs = performance.now() - t0;
    const inMemory = readFileSync(paths[0]);
    t0 = performance.now();
    for (let i = 0; i < copies; i++) Buffer.concat(writePart10(readPart10(inMemory)));
    const memMs = performance.now() - t0;
    t0 = performance.now();
    for (const p of paths) {
      const buf = readFileSync(p);
      const f = readPart10(buf);
      f.dataset.setString(T.PatientName, 'PN', 'EDITED^NAME');
      f.dataset.items(T.ReferencedImageSequence)![0].setString(T.ReferencedSOPInstanceUID, 'UI', '2.25.1');
      writeFileSync(join(dir, 'out.dcm'), Buffer.concat(writePart10(f)));
    }
    const editMs = performance.now() - t0;
    console.log(JSON.stringify({
      files: copies, fileBytes: one.length,
      headerOnlyFilesPerSec: Math.round(copies / (headerMs / 1000)),
      roundTripMBPerSec: Math.round(bytes / 1e6 / (rtMs / 1000)),
      roundTripFilesPerSec: Math.round(copies / (rtMs / 1000)),
      inMemoryParseWriteMBPerSec: Math.round((copies * inMemory.length) / 1e6 / (memMs / 1000)),
      editRoundTripFilesPerSec: Math.round(copies / (editMs / 1000)),
    }));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
