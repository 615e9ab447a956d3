// One path component made safe on every filesystem an export may land on (ext4, NTFS, FAT/exFAT,
// APFS, SMB shares): no separators or characters Windows forbids, no control characters, no
// '.'/'..', no reserved device names, no trailing dot or space, bounded length in UTF-8 bytes.
export interface SanitizeOptions {
  /** Bytes of UTF-8 per component; 255 is the common filesystem limit, less leaves room for suffixes. */
  readonly maxComponentBytes?: number;
  /**
   * DICOM media File ID components (PS3.10 8.2, PS3.12 ISO 9660 level 1 subset): 1-8 characters
   * of A-Z 0-9 _ and no extension, so a DICOMDIR can reference the file by its real path.
   */
  readonly fileId?: boolean;
}

export const FILE_ID_CHARS = 8;
export const isFileIdComponent = (c: string): boolean => /^[A-Z0-9_]{1,8}$/.test(c);

// NTFS/FAT reserve these with any extension ("CON.dcm" opens the console on Windows).
const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)(\..*)?$/i;
// Windows-forbidden characters, both separators, and C0 controls + DEL.
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[<>:"/\\|?*\u0000-\u001f\u007f]/g;

export const DEFAULT_COMPONENT_BYTES = 120;

export function sanitizeComponent(raw: string, opts: SanitizeOptions = {}): string {
  if (opts.fileId) return fileIdComponent(raw);
  const max = opts.maxComponentBytes ?? DEFAULT_COMPONENT_BYTES;
  // NFC: macOS stores decomposed names; composing first keeps one spelling per name.
  let s = raw.normalize('NFC').replace(FORBIDDEN, '_');
  s = truncateUtf8(s, max);
  // Windows drops trailing dots and spaces, which would make "A." and "A" the same file.
  if (s === '' || /^\.+$/.test(s)) s = '_';
  s = s.replace(/[. ]+$/, (m) => '_'.repeat(m.length));
  if (RESERVED.test(s)) s = `_${s}`;
  return truncateUtf8(s, max);
}

/** Cuts to at most `max` UTF-8 bytes on a code point boundary, keeping a short extension. */
export function truncateUtf8(s: string, max: number): string {
  if (Buffer.byteLength(s) <= max) return s;
  const dot = s.lastIndexOf('.');
  const ext = dot > 0 && s.length - dot <= 6 ? s.slice(dot) : '';
  const budget = max - Buffer.byteLength(ext);
  let out = '';
  for (const cp of s.slice(0, s.length - ext.length)) {
    if (Buffer.byteLength(out + cp) > budget) break;
    out += cp;
  }
  return out + ext;
}

/**
 * A File ID component: accents dropped (NFKD), upper case, anything else outside A-Z 0-9 _ becomes
 * "_", a ".dcm" extension is left out (File IDs have none), at most 8 characters. Device names are
 * still avoided ("CON" -> "_CON"): a DICOM CD may well be read on Windows.
 */
function fileIdComponent(raw: string): string {
  let s = raw.replace(/\.dcm$/i, '').normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toUpperCase().replace(/[^A-Z0-9_]/g, '_');
  s = s.slice(0, FILE_ID_CHARS);
  if (s === '') s = '_';
  if (RESERVED.test(s)) s = `_${s}`.slice(0, FILE_ID_CHARS);
  return s;
}
