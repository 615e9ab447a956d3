// Generates a synthetic N-slice 512x512 16-bit CT series (explicit VR little endian) for benchmarks.
// Written with a tiny self-contained encoder, not with dicomgate's own writer, so the benchmark input
// does not depend on the code it measures. Usage: node --import tsx bench/gen-ct.ts <out-dir> [slices=1000] [size=512]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileMeta, monochrome2, part10, str, type El } from './tiny-dicom.ts';

function uid(): string {
  return '2.25.' + BigInt('0x' + randomBytes(16).toString('hex')).toString();
}

export function generateCt(outDir: string, slices = 1000, size = 512): string[] {
  mkdirSync(outDir, { recursive: true });
  const study = uid();
  const series = uid();
  const frame = uid();
  const files: string[] = [];
  const pixels = Buffer.alloc(size * size * 2);
  for (let i = 0; i < size * size; i++) pixels.writeInt16LE(((i * 7) % 2000) - 1000, i * 2);
  for (let n = 1; n <= slices; n++) {
    const sop = uid();
    const sopClass = '1.2.840.10008.5.1.4.1.1.2';
    const z = (-n * 1.25).toFixed(2);
    pixels.writeInt16LE(n % 1000, 0); // each slice differs
    const meta: El[] = [...fileMeta(sopClass, sop), [0x0002, 0x0013, 'SH', str('BENCHGEN', 'SH')]];
    const ds: El[] = [
      [0x0008, 0x0005, 'CS', str('ISO_IR 100', 'CS')],
      [0x0008, 0x0008, 'CS', str('ORIGINAL\\PRIMARY\\AXIAL', 'CS')],
      [0x0008, 0x0016, 'UI', str(sopClass, 'UI')],
      [0x0008, 0x0018, 'UI', str(sop, 'UI')],
      [0x0008, 0x0020, 'DA', str('20240115', 'DA')],
      [0x0008, 0x0030, 'TM', str('101500', 'TM')],
      [0x0008, 0x0050, 'SH', str('ACC0001', 'SH')],
      [0x0008, 0x0060, 'CS', str('CT', 'CS')],
      [0x0008, 0x0070, 'LO', str('BenchCo', 'LO')],
      [0x0008, 0x0080, 'LO', str('Bench Hospital', 'LO')],
      [0x0008, 0x0090, 'PN', str('Referrer^Bench', 'PN')],
      [0x0008, 0x1030, 'LO', str('Bench CT study', 'LO')],
      [0x0008, 0x103e, 'LO', str('Bench CT series', 'LO')],
      [0x0010, 0x0010, 'PN', str('Bench^Patient', 'PN')],
      [0x0010, 0x0020, 'LO', str('BENCH0001', 'LO')],
      [0x0010, 0x0030, 'DA', str('19600101', 'DA')],
      [0x0010, 0x0040, 'CS', str('O', 'CS')],
      [0x0018, 0x0050, 'DS', str('1.25', 'DS')],
      [0x0018, 0x0060, 'DS', str('120', 'DS')],
      [0x0018, 0x5100, 'CS', str('HFS', 'CS')],
      [0x0020, 0x0012, 'IS', str('1', 'IS')],
      [0x0020, 0x1040, 'LO', Buffer.alloc(0)],
      [0x0020, 0x0060, 'CS', Buffer.alloc(0)],
      [0x0020, 0x000d, 'UI', str(study, 'UI')],
      [0x0020, 0x000e, 'UI', str(series, 'UI')],
      [0x0020, 0x0010, 'SH', str('1', 'SH')],
      [0x0020, 0x0011, 'IS', str('1', 'IS')],
      [0x0020, 0x0013, 'IS', str(String(n), 'IS')],
      [0x0020, 0x0032, 'DS', str(`-250\\-250\\${z}`, 'DS')],
      [0x0020, 0x0037, 'DS', str('1\\0\\0\\0\\1\\0', 'DS')],
      [0x0020, 0x0052, 'UI', str(frame, 'UI')],
      [0x0020, 0x1041, 'DS', str(z, 'DS')],
      ...monochrome2(size, size, 16, 16, true),
      [0x0028, 0x0030, 'DS', str('0.976\\0.976', 'DS')],
      [0x0028, 0x1050, 'DS', str('40', 'DS')],
      [0x0028, 0x1051, 'DS', str('400', 'DS')],
      [0x0028, 0x1052, 'DS', str('-1024', 'DS')],
      [0x0028, 0x1053, 'DS', str('1', 'DS')],
      [0x7fe0, 0x0010, 'OW', pixels],
    ];
    const file = join(outDir, `CT${String(n).padStart(5, '0')}.dcm`);
    writeFileSync(file, part10(meta, ds));
    files.push(file);
  }
  return files;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [out, slices, size] = process.argv.slice(2);
  if (!out) {
    console.error('usage: gen-ct.ts <out-dir> [slices=1000] [size=512]');
    process.exit(2);
  }
  const files = generateCt(out, Number(slices ?? 1000), Number(size ?? 512));
  console.log(`wrote ${files.length} files to ${out}`);
}
