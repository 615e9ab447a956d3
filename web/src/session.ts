// Who is signed in, held in memory only (no browser storage: PHI rule, and a reload asks the
// server again through GET /auth/me).
import type { Me } from './api.ts';

let me: Me | null = null;

export function currentUser(): Me | null {
  return me;
}
export function setUser(u: Me | null): void {
  me = u;
}
export function hasRole(...roles: string[]): boolean {
  // Admin passes everywhere, as on the server (src/auth/roles.ts).
  return me !== null && (me.roles.includes('admin') || roles.some((r) => me!.roles.includes(r)));
}
/** Roles allowed to read the archive (REST READ on the server). */
export const READERS = ['researcher', 'broker'];
