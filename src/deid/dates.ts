// Date shifting for the Retain Longitudinal Temporal Information with Modified Dates option (PS3.15 E.3.6).
// Every date of a patient moves by the same number of days, so intervals between studies and series
// stay exact. Times do not move (a whole-day shift leaves the time of day as it was). DT keeps its
// time part and its UTC offset suffix (PS3.5 Table 6.2-1).

const DAY_MS = 86_400_000;

function shiftYmd(y: number, m: number, d: number, days: number): string {
  const t = new Date(Date.UTC(y, m - 1, d) + days * DAY_MS);
  // Years before 1000 keep 4 digits: DA is exactly YYYYMMDD.
  return `${String(t.getUTCFullYear()).padStart(4, '0')}${String(t.getUTCMonth() + 1).padStart(2, '0')}${String(t.getUTCDate()).padStart(2, '0')}`;
}

/** Shifts one DA value ("YYYYMMDD", legacy "YYYY.MM.DD", or a range "A-B"); undefined if unparsable. */
export function shiftDA(value: string, days: number): string | undefined {
  const v = value.trim();
  if (v === '') return '';
  if (v.includes('-')) {
    const parts = v.split('-').map((p) => (p === '' ? '' : shiftDA(p, days)));
    return parts.some((p) => p === undefined) ? undefined : parts.join('-');
  }
  const m = /^(\d{4})\.?(\d{2})\.?(\d{2})$/.exec(v);
  if (!m) return undefined;
  return shiftYmd(Number(m[1]), Number(m[2]), Number(m[3]), days);
}

/**
 * Shifts one DT value "YYYY[MM[DD[HH[MM[SS[.F]]]]]][&ZZXX]". A value with only year or month precision is
 * shifted from its first day and cut back to its precision.
 */
export function shiftDT(value: string, days: number): string | undefined {
  const v = value.trim();
  if (v === '') return '';
  const m = /^(\d{4})(\d{2})?(\d{2})?(\d{2}(?:\d{2}(?:\d{2}(?:\.\d{1,6})?)?)?)?([+-]\d{4})?$/.exec(v);
  if (!m) return undefined;
  const [, y, mo, d, time, zone] = m;
  const shifted = shiftYmd(Number(y), Number(mo ?? '01'), Number(d ?? '01'), days);
  const datePart = shifted.slice(0, 4 + (mo ? 2 : 0) + (d ? 2 : 0));
  return datePart + (time ?? '') + (zone ?? '');
}
