// The one HTTP server: fastify with one encapsulated plugin per API surface, all behind the one
// authentication layer that registerSurfaces installs first (so its hook reaches every route).
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from '../core/log.ts';
import { healthPlugin, type HealthSource } from './health/health-plugin.ts';
import { registerSurfaces, type SurfaceDeps } from './surfaces.ts';
import { uiPlugin, type UiPluginOptions } from './ui/ui-plugin.ts';
import { securityHeaders } from './security-headers.ts';

export interface HttpServerDeps {
  logger: Logger;
  health: HealthSource;
  /** Auth, REST, DICOMweb; absent in tests of the bare server. */
  surfaces?: Omit<SurfaceDeps, 'logger'>;
  /** The web UI under /ui/; absent: not served. */
  ui?: Omit<UiPluginOptions, 'logger'>;
  /** Largest request body accepted outside streaming routes. */
  bodyLimitBytes?: number;
  trustProxy?: boolean;
  tls?: { certFile: string; keyFile: string };
}

export async function buildHttpServer(deps: HttpServerDeps): Promise<FastifyInstance> {
  const https = deps.tls ? { https: { cert: readFileSync(deps.tls.certFile), key: readFileSync(deps.tls.keyFile) } } : {};
  const app = Fastify({
    logger: false,
    bodyLimit: deps.bodyLimitBytes ?? 64 * 1024 * 1024,
    return503OnClosing: true,
    trustProxy: deps.trustProxy ?? false,
    ...https,
  }) as unknown as FastifyInstance;
  const headers = securityHeaders(deps.tls !== undefined);
  app.addHook('onSend', async (_req, reply) => {
    reply.headers(headers);
  });
  app.addHook('onResponse', async (req, reply) => {
    // The route pattern, not the URL: URLs on the identifiable side could carry identifiers.
    deps.logger.debug('http request', { method: req.method, route: req.routeOptions.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) });
  });
  if (deps.surfaces) await registerSurfaces(app, { ...deps.surfaces, logger: deps.logger });
  await app.register(healthPlugin, { source: deps.health });
  if (deps.ui) await app.register(uiPlugin, { ...deps.ui, logger: deps.logger });
  return app;
}
