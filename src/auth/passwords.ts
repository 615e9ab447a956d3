// Password hashing with argon2id (RFC 9106) through @node-rs/argon2 (see docs/dependencies.md).
// Parameters are OWASP's first recommended set (m=19 MiB, t=2, p=1): about 60 ms per hash on the
// target machine, so login stays quick while offline guessing stays expensive. The parameters are
// stored in the PHC string, so raising them later still verifies old hashes.
import { hash, verify } from '@node-rs/argon2';
import { AppError } from '../core/errors.ts';

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 1024;

// algorithm 2 is Argon2id (the package's Algorithm is an ambient const enum we cannot import here).
const PARAMS = { algorithm: 2 as const, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export function checkPasswordPolicy(password: string): void {
  // NIST SP 800-63B 5.1.1: length is what matters; no composition rules.
  if ([...password].length < PASSWORD_MIN_LENGTH) {
    throw new AppError('AUTH_INVALID', { detail: `password must have at least ${PASSWORD_MIN_LENGTH} characters` });
  }
  if (password.length > PASSWORD_MAX_LENGTH) {
    throw new AppError('AUTH_INVALID', { detail: `password must have at most ${PASSWORD_MAX_LENGTH} characters` });
  }
}

export function hashPassword(password: string): Promise<string> {
  checkPasswordPolicy(password);
  return hash(password, PARAMS);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  if (password.length > PASSWORD_MAX_LENGTH) return false;
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

// A fixed hash verified when the user does not exist, so a failed login takes the same time
// whether or not the name is known (no user enumeration by timing).
let dummyHash: Promise<string> | undefined;
export async function burnPasswordCheck(password: string): Promise<void> {
  dummyHash ??= hash('dicomgate-timing-equaliser', PARAMS);
  await verifyPassword(await dummyHash, password);
}
