// A streaming ZIP writer (APPNOTE 6.3.x): entries are STORED (DICOM pixel data rarely deflates well
// and storing keeps downloads CPU-cheap), sizes and CRC-32 follow each entry in a data descriptor
// (bit 3), and ZIP64 records are added when an offset or size passes 4 GiB. Only one entry's
// chunks are in flight at a time, so memory stays flat whatever the archive's size.
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';

// zlib.crc32 exists from Node 20.15 (package.json allows any 20.x): a namespace import, so an older
// Node falls back to the table loop instead of failing to link the module.
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

let table: Uint32Array | undefined;
/** The fallback, exported for its test. */
export function tableCrc32(data: Uint8Array, crc = 0): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = ~crc >>> 0;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** CRC-32 (ISO 3309, as ZIP uses), continuing from `crc`; zlib's native one is ~10x the table loop. */
export function crc32(data: Uint8Array, crc = 0): number {
  return nativeCrc32 ? nativeCrc32(data, crc) : tableCrc32(data, crc);
}

export interface ZipEntry {
  /** Path inside the archive, '/'-separated; never patient data. */
  name: string;
  data: () => AsyncIterable<Uint8Array>;
}

const MAX32 = 0xffffffff;
const VERSION_ZIP64 = 45;
const FLAG_DESCRIPTOR_UTF8 = 0x0008 | 0x0800;

function dosDateTime(d: Date): { date: number; time: number } {
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | Math.floor(d.getSeconds() / 2),
    date: ((d.getFullYear() - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

interface Written {
  name: Buffer;
  crc: number;
  size: number;
  offset: number;
}

export function zipStream(entries: AsyncIterable<ZipEntry> | Iterable<ZipEntry>, now = new Date()): Readable {
  const { date, time } = dosDateTime(now);
  async function* gen(): AsyncGenerator<Buffer> {
    const written: Written[] = [];
    let offset = 0;
    for await (const e of entries) {
      const name = Buffer.from(e.name, 'utf8');
      // Local header: sizes unknown yet (0), given in the data descriptor.
      const lh = Buffer.alloc(30);
      lh.writeUInt32LE(0x04034b50, 0);
      lh.writeUInt16LE(VERSION_ZIP64, 4);
      lh.writeUInt16LE(FLAG_DESCRIPTOR_UTF8, 6);
      lh.writeUInt16LE(0, 8); // stored
      lh.writeUInt16LE(time, 10);
      lh.writeUInt16LE(date, 12);
      lh.writeUInt16LE(name.length, 26);
      yield lh;
      yield name;
      const start = offset;
      offset += 30 + name.length;
      let crc = 0;
      let size = 0;
      for await (const chunk of e.data()) {
        crc = crc32(chunk, crc);
        size += chunk.length;
        yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      }
      offset += size;
      // ZIP64 data descriptor (8-byte sizes) whenever the entry or its offset needs it.
      const big = size >= MAX32 || start >= MAX32;
      const dd = Buffer.alloc(big ? 24 : 16);
      dd.writeUInt32LE(0x08074b50, 0);
      dd.writeUInt32LE(crc, 4);
      if (big) {
        dd.writeBigUInt64LE(BigInt(size), 8);
        dd.writeBigUInt64LE(BigInt(size), 16);
      } else {
        dd.writeUInt32LE(size, 8);
        dd.writeUInt32LE(size, 12);
      }
      yield dd;
      offset += dd.length;
      written.push({ name, crc, size, offset: start });
    }
    const cdStart = offset;
    for (const w of written) {
      const needs64 = w.size >= MAX32 || w.offset >= MAX32;
      const extra = needs64 ? Buffer.alloc(4 + 24) : Buffer.alloc(0);
      if (needs64) {
        extra.writeUInt16LE(0x0001, 0);
        extra.writeUInt16LE(24, 2);
        extra.writeBigUInt64LE(BigInt(w.size), 4);
        extra.writeBigUInt64LE(BigInt(w.size), 12);
        extra.writeBigUInt64LE(BigInt(w.offset), 20);
      }
      const ch = Buffer.alloc(46);
      ch.writeUInt32LE(0x02014b50, 0);
      ch.writeUInt16LE(VERSION_ZIP64, 4);
      ch.writeUInt16LE(VERSION_ZIP64, 6);
      ch.writeUInt16LE(FLAG_DESCRIPTOR_UTF8, 8);
      ch.writeUInt16LE(0, 10);
      ch.writeUInt16LE(time, 12);
      ch.writeUInt16LE(date, 14);
      ch.writeUInt32LE(w.crc, 16);
      ch.writeUInt32LE(needs64 ? MAX32 : w.size, 20);
      ch.writeUInt32LE(needs64 ? MAX32 : w.size, 24);
      ch.writeUInt16LE(w.name.length, 28);
      ch.writeUInt16LE(extra.length, 30);
      ch.writeUInt32LE(needs64 ? MAX32 : w.offset, 42);
      yield ch;
      yield w.name;
      if (extra.length > 0) yield extra;
      offset += 46 + w.name.length + extra.length;
    }
    const cdSize = offset - cdStart;
    const zip64 = written.length >= 0xffff || cdStart >= MAX32 || cdSize >= MAX32;
    if (zip64) {
      const rec = Buffer.alloc(56);
      rec.writeUInt32LE(0x06064b50, 0);
      rec.writeBigUInt64LE(44n, 4);
      rec.writeUInt16LE(VERSION_ZIP64, 12);
      rec.writeUInt16LE(VERSION_ZIP64, 14);
      rec.writeBigUInt64LE(BigInt(written.length), 24);
      rec.writeBigUInt64LE(BigInt(written.length), 32);
      rec.writeBigUInt64LE(BigInt(cdSize), 40);
      rec.writeBigUInt64LE(BigInt(cdStart), 48);
      const loc = Buffer.alloc(20);
      loc.writeUInt32LE(0x07064b50, 0);
      loc.writeBigUInt64LE(BigInt(offset), 8);
      loc.writeUInt32LE(1, 16);
      yield rec;
      yield loc;
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(Math.min(written.length, 0xffff), 8);
    end.writeUInt16LE(Math.min(written.length, 0xffff), 10);
    end.writeUInt32LE(Math.min(cdSize, MAX32), 12);
    end.writeUInt32LE(Math.min(cdStart, MAX32), 16);
    yield end;
  }
  return Readable.from(gen());
}
