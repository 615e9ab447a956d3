// Registers the authentication layer and every API surface on the one server. server.ts calls
// this right after creating the app (before other plugins), so the auth hook reaches every route.
import type { FastifyInstance } from 'fastify';
import type { AuditLog } from '../auth/audit-log.ts';
import type { AuthService } from '../auth/auth-service.ts';
import type { LoginRateLimiter } from '../auth/login-rate-limiter.ts';
import type { Logger } from '../core/log.ts';
import { auditRoutes } from './audit/audit-routes.ts';
import { DEFAULT_ARCHIVE_PROJECT, projectScopeOf } from './archive-scope.ts';
import { installAuth } from './auth-plugin.ts';
import { authRoutes } from './auth/auth-routes.ts';
import { userAdminRoutes } from './auth/user-admin-routes.ts';
import { oidcRoutes, type OidcSettings } from './auth/oidc-routes.ts';
import { jsonErrorHandler } from './error-handler.ts';
import { dicomwebPlugin } from './dicomweb/dicomweb-plugin.ts';
import { wadoUriRoutes } from './dicomweb/wado-uri.ts';
import { gatewayStowRoutes, type GatewayStowDeps } from './dicomweb/gateway-stow.ts';
import { restPlugin } from './rest/rest-plugin.ts';
import { convertRoute } from './tools/convert-route.ts';
import type { RestDeps } from './rest/rest-deps.ts';
import { brokerPlugin, type BrokerDeps } from './broker/broker-plugin.ts';
import { projectsPlugin, type ProjectsDeps } from './projects/projects-plugin.ts';

export interface SurfaceDeps {
  logger: Logger;
  auth: {
    /** config.auth.enabled (false only with --dev). */
    enabled: boolean;
    /** Required when enabled. */
    service: AuthService | null;
    audit: AuditLog;
    limiter?: LoginRateLimiter;
    /** Route URLs public without declaring it (default ['/health']). */
    publicRoutes?: readonly string[];
    /** OpenID Connect login (GET /auth/oidc/login, /auth/oidc/callback) when configured. */
    oidc?: OidcSettings;
    /** Pseudo-project granting data stored without a project (config auth.archiveProject; default "archive"). */
    archiveProject?: string;
  };
  /** The Orthanc-compatible REST surface; absent until the archive is open (tests of auth alone). */
  rest?: Omit<RestDeps, 'audit' | 'logger'>;
  /** STOW-RS into de-identification projects (POST /projects/{project}/dicom-web/studies). */
  gateway?: GatewayStowDeps;
  /** Honest broker (/broker/...): key database and quarantine. */
  broker?: Omit<BrokerDeps, 'audit' | 'logger'>;
  /** De-identification projects (/projects, /projects/{project}/preview). */
  projects?: Omit<ProjectsDeps, 'audit' | 'logger'>;
}

export async function registerSurfaces(app: FastifyInstance, deps: SurfaceDeps): Promise<void> {
  const limiter = installAuth(app, {
    enabled: deps.auth.enabled,
    service: deps.auth.service,
    audit: deps.auth.audit,
    logger: deps.logger,
    ...(deps.auth.limiter ? { limiter: deps.auth.limiter } : {}),
    ...(deps.auth.publicRoutes ? { publicRoutes: deps.auth.publicRoutes } : {}),
  });
  // After the auth hook (hooks run in order), so the principal is known; read routes use readIndex().
  const archiveProject = deps.auth.archiveProject ?? DEFAULT_ARCHIVE_PROJECT;
  app.decorateRequest('projectScope', undefined);
  app.addHook('onRequest', async (req) => {
    req.projectScope = projectScopeOf(req.principal?.user, archiveProject);
  });
  await app.register(async (scope) => {
    scope.setErrorHandler(jsonErrorHandler(deps.logger));
    await scope.register(authRoutes, { service: deps.auth.service, audit: deps.auth.audit, limiter });
    await scope.register(auditRoutes, { audit: deps.auth.audit });
    await scope.register(userAdminRoutes, { service: deps.auth.service, audit: deps.auth.audit });
    if (deps.auth.oidc && deps.auth.service) {
      await scope.register(oidcRoutes, { settings: deps.auth.oidc, service: deps.auth.service, audit: deps.auth.audit, logger: deps.logger });
    }
  });
  if (deps.broker) await app.register(brokerPlugin, { ...deps.broker, audit: deps.auth.audit, logger: deps.logger });
  if (deps.projects) await app.register(projectsPlugin, { ...deps.projects, audit: deps.auth.audit, logger: deps.logger });
  if (deps.rest) {
    await app.register(restPlugin, { ...deps.rest, audit: deps.auth.audit, logger: deps.logger });
    const dicomweb = { archive: deps.rest.archive, audit: deps.auth.audit, logger: deps.logger };
    await app.register(dicomwebPlugin, { prefix: '/dicom-web', ...dicomweb });
    // WADO-URI lives at /wado (Orthanc and OHIF's "wadoUriRoot" expect it there).
    await app.register(async (scope) => {
      scope.setErrorHandler(jsonErrorHandler(deps.logger));
      await scope.register(wadoUriRoutes, dicomweb);
      if (deps.gateway) await scope.register(gatewayStowRoutes(deps.gateway), dicomweb);
    });
    await app.register(convertRoute, {
      ingest: deps.rest.archive.ingest,
      audit: deps.auth.audit,
      logger: deps.logger,
      uploadLimitBytes: deps.rest.uploadLimitBytes ?? 1024 * 1024 * 1024,
      ...(deps.gateway ? { gateway: deps.gateway } : {}),
    });
  }
}
