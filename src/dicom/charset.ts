// Specific Character Set (0008,0005) handling (PS3.5 6.1, PS3.3 C.12.1.1.2).
// Decoding delegates to dicom-character-set, which matches pydicom on its charset test files
// (single-byte ISO 8859 parts, JIS X 0201/0208/0212, KS X 1001, GB18030/GBK, UTF-8, ISO 2022 escapes).
import { convertBytes } from 'dicom-character-set';
import type { VR } from './vr.ts';
import { isAscii, latin1 } from './values.ts';

export const UTF8_CHARSET = 'ISO_IR 192';

/** Decodes text bytes of a charset-affected VR. Pure ASCII (no ESC) takes a fast path since every
 *  DICOM character set starts with ISO 646 in G0 (PS3.5 6.1.2.5.3). No charset means the default
 *  repertoire; stray high bytes are read as ISO 8859-1 as pydicom and DCMTK do. */
export function decodeText(charset: string | undefined, b: Uint8Array, vr: VR): string {
  if (isAscii(b)) return latin1(b);
  const cs = charset?.trim() ?? '';
  if (cs === '' || cs === 'ISO_IR 6') return latin1(b);
  if (cs === UTF8_CHARSET) return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
  try {
    return convertBytes(cs, b, { vr });
  } catch {
    // Writers often switch back with ESC ( B (ISO 646, i.e. ISO 2022 IR 6) without declaring it,
    // as in pydicom's chrSQEncoding.dcm; pydicom and DCMTK accept that, so retry with it declared.
    if (cs.includes('2022')) {
      try {
        return convertBytes(`${cs}\\ISO 2022 IR 6`, b, { vr });
      } catch {
        /* fall through */
      }
    }
    // Unknown or malformed charset term: keep the bytes readable rather than failing the read.
    return latin1(b);
  }
}

const reverseTables = new Map<string, Map<string, number> | null>();

/** char → byte for a single-byte charset, built by decoding 0x00-0xFF once; null when the
 *  charset is not single-byte (multi-byte or code extensions), so callers fall back to UTF-8. */
function reverseTable(cs: string): Map<string, number> | null {
  const known = reverseTables.get(cs);
  if (known !== undefined) return known;
  let table: Map<string, number> | null = null;
  const terms = cs.split('\\').map((s) => s.trim());
  const single = terms.length === 1 && /^ISO_IR (100|101|109|110|144|127|126|138|148|166|13)$/.test(terms[0]);
  if (single) {
    table = new Map();
    for (let b = 0x20; b <= 0xff; b++) {
      if (b === 0x7f || (b >= 0x80 && b < 0xa0)) continue;
      try {
        const s = convertBytes(cs, Uint8Array.of(b), { vr: 'LO' });
        if (s.length === 1 && s !== '\uFFFD' && !table.has(s)) table.set(s, b);
      } catch {
        /* byte not assigned in this charset */
      }
    }
  }
  reverseTables.set(cs, table);
  return table;
}

/** Encodes text in the given charset, or returns undefined when some character is not representable
 *  (the caller then switches the dataset to UTF-8). */
export function encodeText(charset: string | undefined, s: string): Uint8Array | undefined {
  let ascii = true;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80 || s.charCodeAt(i) === 0x1b) { ascii = false; break; }
  if (ascii) return Buffer.from(s, 'latin1');
  const cs = charset?.trim() ?? '';
  if (cs === UTF8_CHARSET) return Buffer.from(s, 'utf8');
  if (cs === '' || cs === 'ISO_IR 6') return undefined;
  const table = reverseTable(cs);
  if (!table) return undefined;
  const out = new Uint8Array(s.length);
  let n = 0;
  for (const ch of s) {
    const code = ch.charCodeAt(0);
    if (ch.length === 1 && code < 0x80) out[n++] = code;
    else {
      const b = table.get(ch);
      if (b === undefined) return undefined;
      out[n++] = b;
    }
  }
  return out.subarray(0, n);
}
