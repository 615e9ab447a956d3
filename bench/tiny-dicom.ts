// A tiny self-contained explicit-VR-little-endian encoder for the benchmark generators, so benchmark
// inputs do not depend on the dicomgate code they measure.
export type El = [group: number, element: number, vr: string, value: Buffer];

const LONG_VRS = new Set(['OB', 'OW', 'OF', 'SQ', 'UT', 'UN', 'UC', 'UR', 'OD', 'OL', 'OV', 'SV', 'UV']);

/** A text value padded to even length (NUL for UI, space otherwise). */
export function str(s: string, vr: string): Buffer {
  const b = Buffer.from(s, 'latin1');
  return b.length % 2 ? Buffer.concat([b, Buffer.from([vr === 'UI' ? 0 : 0x20])]) : b;
}

export function us(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}

/** Elements in tag order, explicit VR little endian. */
export function encode(els: El[]): Buffer {
  const parts: Buffer[] = [];
  for (const [g, e, vr, v] of els.sort((a, b) => a[0] - b[0] || a[1] - b[1])) {
    const long = LONG_VRS.has(vr);
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

/** A Part-10 file: preamble, "DICM", (0002,0000) group length, the meta elements, the dataset. */
export function part10(meta: El[], dataset: El[]): Buffer {
  const m = encode(meta);
  const groupLength = Buffer.alloc(12);
  groupLength.writeUInt16LE(0x0002, 0);
  groupLength.writeUInt16LE(0x0000, 2);
  groupLength.write('UL', 4, 'latin1');
  groupLength.writeUInt16LE(4, 6);
  groupLength.writeUInt32LE(m.length, 8);
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), groupLength, m, encode(dataset)]);
}
