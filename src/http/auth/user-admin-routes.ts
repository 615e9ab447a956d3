// Users and tokens over HTTP, for the UI and for scripts:
//   self-service (any logged-in user): GET/POST /auth/tokens, DELETE /auth/tokens/{id}
//     (a researcher makes a token for PyDicer without an admin; the token is shown once)
//   admin: GET/POST /auth/users, PATCH/DELETE /auth/users/{name}, PUT /auth/users/{name}/password,
//     GET /auth/users/{name}/tokens
// Every change is audited. Passwords travel only in request bodies (never URLs).
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { AuditLog } from '../../auth/audit-log.ts';
import type { AuthService } from '../../auth/auth-service.ts';
import { AppError } from '../../core/errors.ts';
import { parseRoles } from '../../auth/roles.ts';
import type { ApiToken } from '../../auth/user.ts';

export interface UserAdminOptions {
  service: AuthService | null;
  audit: AuditLog;
}

const tokenJson = (t: ApiToken) => ({ id: t.id, name: t.name, createdAt: t.createdAt, expiresAt: t.expiresAt, revokedAt: t.revokedAt, lastUsedAt: t.lastUsedAt });

const newTokenBody = {
  type: 'object',
  additionalProperties: false,
  properties: { name: { type: 'string', minLength: 1, maxLength: 100 }, expiresDays: { type: ['integer', 'null'], minimum: 1, maximum: 3650 } },
} as const;
const newUserBody = {
  type: 'object',
  required: ['username', 'password', 'roles'],
  additionalProperties: false,
  properties: {
    username: { type: 'string' },
    password: { type: 'string', maxLength: 1024 },
    roles: { type: 'array', items: { type: 'string' } },
    projects: { type: 'array', items: { type: 'string' } },
  },
} as const;
const patchUserBody = {
  type: 'object',
  additionalProperties: false,
  properties: { roles: { type: 'array', items: { type: 'string' } }, projects: { type: 'array', items: { type: 'string' } }, disabled: { type: 'boolean' } },
} as const;

export const userAdminRoutes: FastifyPluginAsync<UserAdminOptions> = async (app, opts) => {
  const service = (): AuthService => {
    if (opts.service === null) throw new AppError('AUTH_FORBIDDEN', { detail: 'authentication is off (--dev)' });
    return opts.service;
  };
  const record = (req: FastifyRequest, action: string, resource: string) =>
    opts.audit.record({ actor: req.principal?.user.username ?? null, action, resource, ip: req.ip, outcome: 'success' });

  app.get('/auth/tokens', { config: { role: 'authenticated' } }, async (req) => (await service().listTokens(req.principal!.user.username)).map(tokenJson));

  app.post<{ Body: { name?: string; expiresDays?: number | null } }>('/auth/tokens', { config: { role: 'authenticated' }, schema: { body: newTokenBody } }, async (req, reply) => {
    const { token, info } = await service().createToken(req.principal!.user.username, req.body?.name ?? 'api', req.body?.expiresDays === undefined ? 90 : req.body.expiresDays);
    await record(req, 'token.create', info.id);
    reply.code(201).header('Cache-Control', 'no-store');
    return { ...tokenJson(info), token };
  });

  app.delete<{ Params: { id: string } }>('/auth/tokens/:id', { config: { role: 'authenticated' } }, async (req, reply) => {
    const mine = await service().listTokens(req.principal!.user.username);
    // Admins may revoke anyone's token; others only their own (an unknown id looks the same).
    if (!mine.some((t) => t.id === req.params.id) && !req.principal!.user.roles.includes('admin')) throw new AppError('AUTH_USER_UNKNOWN', { detail: `token ${req.params.id}` });
    await service().revokeToken(req.params.id);
    await record(req, 'token.revoke', req.params.id);
    return reply.code(204).send();
  });

  app.get('/auth/users', { config: { role: 'admin' } }, async () => service().listUsers());

  // Any user's tokens (names and dates, never the secret), so an admin can revoke a leaked one.
  app.get<{ Params: { name: string } }>('/auth/users/:name/tokens', { config: { role: 'admin' } }, async (req) => (await service().listTokens(req.params.name)).map(tokenJson));

  app.post<{ Body: { username: string; password: string; roles: string[]; projects?: string[] } }>('/auth/users', { config: { role: 'admin' }, schema: { body: newUserBody } }, async (req, reply) => {
    const u = await service().addUser(req.body.username, req.body.password, parseRoles(req.body.roles), req.body.projects ?? []);
    await record(req, 'user.add', u.username);
    return reply.code(201).send(u);
  });

  app.patch<{ Params: { name: string }; Body: { roles?: string[]; projects?: string[]; disabled?: boolean } }>('/auth/users/:name', { config: { role: 'admin' }, schema: { body: patchUserBody } }, async (req, reply) => {
    const b = req.body ?? {};
    await service().updateAccess(req.params.name, { ...(b.roles ? { roles: parseRoles(b.roles) } : {}), ...(b.projects ? { projects: b.projects } : {}), ...(b.disabled !== undefined ? { disabled: b.disabled } : {}) });
    await record(req, 'user.update', req.params.name);
    return reply.code(204).send();
  });

  app.put<{ Params: { name: string }; Body: { password: string } }>(
    '/auth/users/:name/password',
    { config: { role: 'admin' }, schema: { body: { type: 'object', required: ['password'], additionalProperties: false, properties: { password: { type: 'string', maxLength: 1024 } } } } },
    async (req, reply) => {
      await service().setPassword(req.params.name, req.body.password);
      await record(req, 'user.passwd', req.params.name);
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: { name: string } }>('/auth/users/:name', { config: { role: 'admin' } }, async (req, reply) => {
    if (req.params.name === req.principal!.user.username) throw new AppError('AUTH_INVALID', { detail: 'an admin cannot remove itself' });
    await service().removeUser(req.params.name);
    await record(req, 'user.remove', req.params.name);
    return reply.code(204).send();
  });
};
