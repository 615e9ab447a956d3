// The one HTTP server: fastify with one encapsulated plugin per API surface.
// Surfaces register themselves here; main.ts passes what each needs (services, not adapters).
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from '../core/log.ts';
import { healthPlugin, type HealthSource } from './health/health-plugin.ts';

export interface HttpServerDeps {
  logger: Logger;
  health: HealthSource;
  /** Largest request body accepted outside streaming routes. */
  bodyLimitBytes?: number;
}

export async function buildHttpServer(deps: HttpServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: deps.bodyLimitBytes ?? 64 * 1024 * 1024,
    // Request URLs on the research side may carry UIDs but never PHI; still, do not echo them in errors.
    return503OnClosing: true,
  });
  app.addHook('onSend', async (_req, reply) => {
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('X-Frame-Options', 'DENY');
    reply.header('Referrer-Policy', 'no-referrer');
  });
  app.addHook('onResponse', async (req, reply) => {
    deps.logger.debug('http request', { method: req.method, route: req.routeOptions.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) });
  });
  await app.register(healthPlugin, { source: deps.health });
  return app;
}
