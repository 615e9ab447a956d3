// First-start admin creation and the check `serve` runs before listening: with authentication on
// there must be at least one user, and there is never a default password.
import { readFileSync } from 'node:fs';
import { AppError } from '../core/errors.ts';
import { AuthService } from './auth-service.ts';
import type { UserStore } from './user-store.ts';

export const ADMIN_USER_ENV = 'DICOMGATE_ADMIN_USER';
export const ADMIN_PASSWORD_ENV = 'DICOMGATE_ADMIN_PASSWORD';
export const ADMIN_PASSWORD_FILE_ENV = 'DICOMGATE_ADMIN_PASSWORD_FILE';

export const NO_USER_HELP = `authentication is on and no user exists. Create the first one with
  dicomgate users add <name> --role admin            (asks for the password; or --password-file <file>)
or set ${ADMIN_USER_ENV} and ${ADMIN_PASSWORD_FILE_ENV} (or ${ADMIN_PASSWORD_ENV}) for the first start,
or use --dev for a local trial without authentication (never on a network others can reach).`;

export type AuthReadiness = { ok: true; createdAdmin: string | null } | { ok: false; message: string };

/** Reads the bootstrap password from the environment (file wins for Docker/Swarm secrets). */
function bootstrapPassword(env: NodeJS.ProcessEnv): string | undefined {
  const file = env[ADMIN_PASSWORD_FILE_ENV];
  const inline = env[ADMIN_PASSWORD_ENV];
  if (file !== undefined && file !== '' && inline !== undefined && inline !== '') {
    throw new AppError('AUTH_INVALID', { detail: `set only one of ${ADMIN_PASSWORD_ENV} and ${ADMIN_PASSWORD_FILE_ENV}` });
  }
  if (file !== undefined && file !== '') {
    try {
      return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (cause) {
      throw new AppError('AUTH_INVALID', { detail: `${ADMIN_PASSWORD_FILE_ENV}: cannot read ${file}`, cause });
    }
  }
  return inline === '' ? undefined : inline;
}

/**
 * Creates the admin named by DICOMGATE_ADMIN_USER when the user table is empty (first start only:
 * a later start never recreates a deleted admin nor resets a password). Returns the name created.
 */
export async function bootstrapAdmin(store: UserStore, env: NodeJS.ProcessEnv): Promise<string | null> {
  const username = env[ADMIN_USER_ENV];
  if (username === undefined || username === '') return null;
  if ((await store.countUsers()) > 0) return null;
  const password = bootstrapPassword(env);
  if (password === undefined) {
    throw new AppError('AUTH_INVALID', { detail: `${ADMIN_USER_ENV} is set but neither ${ADMIN_PASSWORD_FILE_ENV} nor ${ADMIN_PASSWORD_ENV} is` });
  }
  await new AuthService({ store }).addUser(username, password, ['admin']);
  return username;
}

/** What `serve` calls before listening. ok when auth is off (dev) or at least one user exists. */
export async function checkAuthReady(store: UserStore, env: NodeJS.ProcessEnv, cfg: { auth: { enabled: boolean } }): Promise<AuthReadiness> {
  if (!cfg.auth.enabled) return { ok: true, createdAdmin: null };
  let createdAdmin: string | null;
  try {
    createdAdmin = await bootstrapAdmin(store, env);
  } catch (e) {
    return { ok: false, message: (e as Error).message };
  }
  if ((await store.countUsers()) === 0) return { ok: false, message: NO_USER_HELP };
  return { ok: true, createdAdmin };
}
