// PS3.7 D.3.3.7 user identity negotiation checked against dicomgate's users: type 2
// (username + passcode) by password, type 5 (token) by API token. Type 1 (username alone)
// proves nothing and types 3/4 (Kerberos, SAML) are not supported: all refused.
import type { AuthService } from '../auth/auth-service.ts';
import type { AssociationInfo } from '../dimse/handlers.ts';
import type { ProjectScope } from '../index/archive-index.ts';
import { projectScopeOf } from '../services/project-scope.ts';

export type UserIdentity = NonNullable<AssociationInfo['userIdentity']>;

export function authenticateWith(auth: Pick<AuthService, 'checkBasic' | 'authenticateToken'>): (id: UserIdentity) => Promise<boolean> {
  return async (id) => {
    if (id.type === 2) return (await auth.checkBasic(id.primary, id.secondary)) !== undefined;
    if (id.type === 5) return (await auth.authenticateToken(id.primary)) !== undefined;
    return false;
  };
}

/**
 * The archive data an authenticated identity's user may read over C-FIND/C-MOVE/C-GET (the same
 * per-project rule as HTTP). Called only after `authenticateWith` accepted the identity; the
 * password check is cached by the AuthService, so this costs no second argon2 run.
 */
export function readScopeWith(auth: Pick<AuthService, 'checkBasic' | 'authenticateToken'>, archiveProject: string): (id: UserIdentity) => Promise<ProjectScope | undefined> {
  return async (id) => {
    const user = id.type === 2 ? await auth.checkBasic(id.primary, id.secondary) : id.type === 5 ? (await auth.authenticateToken(id.primary))?.user : undefined;
    return projectScopeOf(user, archiveProject);
  };
}
