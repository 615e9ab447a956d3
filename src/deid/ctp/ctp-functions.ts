// The value functions of CTP's anonymizer (AnonymizerFunctions), re-implemented from their
// documented behaviour: MD5 digests written as unsigned decimal numbers, date arithmetic on
// DICOM DA strings, age rounding, initials. Pure; no dataset access here.
import { createHash } from 'node:crypto';

/** MD5 of the UTF-8 text as an unsigned base-10 integer (CTP DigestUtil.getUSMD5). */
export function md5Decimal(text: string): string {
  return BigInt(`0x${createHash('md5').update(text, 'utf8').digest('hex')}`).toString(10);
}

/** @hash: the decimal MD5, cut to maxlen digits (maxlen < 1: no limit). */
export function ctpHash(text: string, maxlen = Number.MAX_SAFE_INTEGER): string {
  const r = md5Decimal(text);
  return maxlen < 1 ? r : r.slice(0, maxlen);
}

/** @hashuid: prefix (a '.' appended if missing) + decimal MD5 of the UID text, at most 64 characters. */
export function ctpHashUid(prefix: string, uid: string): string {
  let p = prefix.trim();
  if (p !== '' && !p.endsWith('.')) p += '.';
  const h = md5Decimal(uid);
  // A UID component must not start with 0 (PS3.5 9.1); CTP prepends 9 in that case.
  const uidOut = p + (h.startsWith('0') ? '9' : '') + h;
  return uidOut.slice(0, 64);
}

/** @hashptid: hash of "[siteid]ptid", both trimmed. */
export function ctpHashPtId(siteId: string, ptid: string, maxlen = Number.MAX_SAFE_INTEGER): string {
  return ctpHash(`[${siteId.trim()}]${ptid.trim()}`, maxlen);
}

/** @hashname: the first wordCount '^'-components, without spaces, commas, apostrophes, carets and dots, upper case, hashed. */
export function ctpHashName(name: string, length: number, wordCount = Number.MAX_SAFE_INTEGER): string {
  const n = wordCount <= 0 ? Number.MAX_SAFE_INTEGER : wordCount;
  const joined = name.split('^').slice(0, n).join('');
  return ctpHash(joined.replace(/[\s,'^.]/g, '').toUpperCase(), length);
}

/** @initials: "Last^First^Middle" -> "FML" (first letters, last name's moved to the end); "X" when empty. */
export function ctpInitials(name: string | undefined): string {
  if (name === undefined) return 'X';
  const words = name.replace(/\^/g, ' ').replace(/\s+/g, ' ').trim();
  if (words === '') return 'X';
  let s = words.split(' ').map((w) => w[0]).join('');
  if (s.length > 1) s = s.slice(1) + s[0];
  return s.toUpperCase();
}

/** Caesar shift of letters (for @initials with an offset); other characters unchanged. */
export function caesar(s: string, offset: number): string {
  const k = ((offset % 26) + 26) % 26;
  return s.replace(/[A-Za-z]/g, (c) => {
    const base = c <= 'Z' ? 65 : 97;
    return String.fromCharCode(((c.charCodeAt(0) - base + k) % 26) + base);
  });
}

/** @round: an age string ("027Y") rounded to bins of `width`, suffix kept, a leading 0 making the length even. */
export function ctpRoundAge(age: string, width: number): string {
  const s = age.trim();
  if (s === '') return '';
  const digits = s.replace(/\D/g, '');
  if (digits === '' || !(width > 0)) throw new Error('age does not parse');
  // Java Math.round(float): floor(x + 0.5)
  const binned = Math.floor(Number(digits) / width + 0.5) * width;
  let r = `${binned}${s.replace(/\d/g, '')}`;
  if (r.length % 2 !== 0) r = `0${r}`;
  return r;
}

function parseDA(date: string): { y: number; m: number; d: number } | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})/.exec(date.trim());
  if (!m) return undefined;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return undefined;
  return { y, m: mo, d };
}

function fmt(t: number): string {
  const dt = new Date(t);
  return `${String(dt.getUTCFullYear()).padStart(4, '0')}${String(dt.getUTCMonth() + 1).padStart(2, '0')}${String(dt.getUTCDate()).padStart(2, '0')}`;
}

/**
 * Adds days to a DA (or the date part of a DT, the rest kept). Calendar arithmetic in UTC: CTP adds
 * 24 h multiples in the server's time zone, which is the same date except across DST changes.
 */
export function ctpIncrementDate(date: string, days: number): string {
  const p = parseDA(date);
  if (!p) throw new Error('not a DICOM date');
  return fmt(Date.UTC(p.y, p.m - 1, p.d + days)) + date.trim().slice(8);
}

/** @modifydate: replaces year, month and/or day (-1 keeps the field), with calendar roll-over like Java's Calendar.set. */
export function ctpModifyDate(date: string, y: number, m: number, d: number): string {
  const p = parseDA(date);
  if (!p) throw new Error('not a DICOM date');
  return fmt(Date.UTC(y < 0 ? p.y : y, (m < 0 ? p.m : m) - 1, d < 0 ? p.d : d)) + date.trim().slice(8);
}

/** Days from a base date written M/d/yyyy (CTP lookup-table format) to a DA, rounded. */
export function ctpDaysSince(date: string, baseMdy: string): number {
  const p = parseDA(date);
  const b = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(baseMdy.trim());
  if (!p || !b) throw new Error('bad date');
  const ms = Date.UTC(p.y, p.m - 1, p.d) - Date.UTC(Number(b[3]), Number(b[1]) - 1, Number(b[2]));
  return Math.round(ms / 86_400_000);
}

/** @hashdate increment: minus (last 4 digits of the decimal MD5) modulo 3650 days. */
export function ctpHashDateIncrement(text: string): number {
  const h = md5Decimal(text);
  return -(Number(h.slice(-4)) % 3650);
}
