import { randomUUID } from 'node:crypto';

/** A new UID: 2.25.<random UUID as a decimal integer> (PS3.5 B.2), at most 44 characters. */
export function newUid(): string {
  return `2.25.${BigInt('0x' + randomUUID().replaceAll('-', '')).toString()}`;
}

/** PS3.5 9.1: components of digits separated by dots, no leading zeros, at most 64 characters. */
export function isValidUid(s: string): boolean {
  return s.length <= 64 && /^(0|[1-9]\d*)(\.(0|[1-9]\d*))+$/.test(s);
}
