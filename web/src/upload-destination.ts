// Where an upload goes: a de-identification project (POST /projects/{project}/instances, the gateway
// chain: filters, de-identification, store) or, for admins only, the archive as is (POST /instances).
// Pure, tested in web/test/upload.test.ts.
import type { Me } from './api.ts';

/** The select value meaning "archive as is". Project names are never empty. */
export const AS_IS = '';

export interface DestinationChoice {
  /** Project names the user may upload into, sorted. */
  projects: string[];
  /** "Archive as is" is offered (admin only, as the server's POST /instances rule). */
  asIs: boolean;
  /**
   * The user may use any project ('*') but the list could not be read (GET /projects is for readers):
   * the page asks for the project's name instead.
   */
  typeName: boolean;
}

/**
 * `listed`: the names GET /projects answered (already only those the user may use), or undefined
 * when the user may not list projects. Projects that do not compile are left out by the caller.
 */
export function destinationChoice(me: Pick<Me, 'roles' | 'projects'>, listed: readonly string[] | undefined): DestinationChoice {
  const admin = me.roles.includes('admin');
  const any = admin || me.projects.includes('*');
  // The server filters GET /projects by the user's list; without it, the user's own list is all we know.
  const names = listed ?? me.projects.filter((p) => p !== '*');
  return { projects: [...new Set(names)].sort(), asIs: admin, typeName: any && listed === undefined };
}

/** The upload URL for a destination (a project name, or AS_IS). */
export function uploadUrl(destination: string): string {
  return destination === AS_IS ? '/instances' : `/projects/${encodeURIComponent(destination)}/instances`;
}
