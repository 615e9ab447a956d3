// Making new pseudonyms, date shifts and UIDs. All randomness comes from node:crypto; nothing is derived
// from the original values (an unsalted hash of a PatientID can be reversed by hashing candidate IDs).
import { randomInt, randomUUID } from 'node:crypto';
import type { PseudonymPolicy } from '../deid/pseudonymizer.ts';

// Crockford-like alphabet without look-alikes (0/O, 1/I/L), so pseudonyms survive being read aloud.
const RANDOM_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
const PLACEHOLDER = /\{(prefix|id|seq|random)(?::(\d+))?\}/g;

function randomText(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += RANDOM_ALPHABET[randomInt(RANDOM_ALPHABET.length)];
  return s;
}

/** Renders an id/name pattern; `seq` is the project's counter value for this patient. */
export function renderPattern(pattern: string, vars: { prefix: string; seq: number; id?: string }): string {
  return pattern.replace(PLACEHOLDER, (_m, name: string, width: string | undefined) => {
    const w = width === undefined ? undefined : Number(width);
    switch (name) {
      case 'prefix':
        return vars.prefix;
      case 'id':
        return vars.id ?? '';
      case 'seq':
        return String(vars.seq).padStart(w ?? 0, '0');
      default:
        return randomText(w ?? 10);
    }
  });
}

/** Whether a pattern can collide (random part) and so needs a retry on a uniqueness violation. */
export function patternIsRandom(pattern: string): boolean {
  return pattern.includes('{random');
}

export function drawDateShift(policy: PseudonymPolicy): number {
  const [min, max] = policy.dateShiftDays;
  return min === max ? min : randomInt(min, max + 1);
}

const MAX_UID_LENGTH = 64; // PS3.5 9.1

/** A new UID: 2.25.<random UUID as decimal> (PS3.5 B.2), or <root>.<random decimal> fitting 64 chars. */
export function newUid(uidRoot: string | undefined): string {
  const uuidDecimal = BigInt('0x' + randomUUID().replaceAll('-', '')).toString();
  if (uidRoot === undefined) return `2.25.${uuidDecimal}`;
  const room = MAX_UID_LENGTH - uidRoot.length - 1;
  // A component must not start with 0 (PS3.5 9.1); the UUID decimal never does and is cut from the left end.
  return `${uidRoot}.${uuidDecimal.slice(0, Math.max(1, room))}`;
}
