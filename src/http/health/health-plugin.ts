// GET /health: liveness and a few counters, public (load balancers probe it without credentials).
import type { FastifyPluginAsync } from 'fastify';

export interface HealthReport {
  status: 'ok' | 'degraded';
  version: string;
  uptimeSeconds: number;
  checks: Record<string, 'ok' | string>;
}

export type HealthSource = () => Promise<HealthReport>;

export const healthPlugin: FastifyPluginAsync<{ source: HealthSource }> = async (app, opts) => {
  app.get('/health', async (_req, reply) => {
    const report = await opts.source();
    reply.code(report.status === 'ok' ? 200 : 503);
    return report;
  });
};
