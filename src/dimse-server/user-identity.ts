// PS3.7 D.3.3.7 user identity negotiation checked against dicomgate's users: type 2
// (username + passcode) by password, type 5 (token) by API token. Type 1 (username alone)
// proves nothing and types 3/4 (Kerberos, SAML) are not supported: all refused.
import type { AuthService } from '../auth/auth-service.ts';
import type { AssociationInfo } from '../dimse/handlers.ts';

export type UserIdentity = NonNullable<AssociationInfo['userIdentity']>;

export function authenticateWith(auth: Pick<AuthService, 'checkBasic' | 'authenticateToken'>): (id: UserIdentity) => Promise<boolean> {
  return async (id) => {
    if (id.type === 2) return (await auth.checkBasic(id.primary, id.secondary)) !== undefined;
    if (id.type === 5) return (await auth.authenticateToken(id.primary)) !== undefined;
    return false;
  };
}
