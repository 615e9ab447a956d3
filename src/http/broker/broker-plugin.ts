// The honest-broker surface (/broker/...): key database lookups, mapping export/import and the
// quarantine. One encapsulated scope: its own error handler, the broker-only hook (admin is not
// implied), and Cache-Control: no-store on every answer, since answers hold original identifiers.
import type { FastifyInstance } from 'fastify';
import { jsonErrorHandler } from '../error-handler.ts';
import { brokerOnly, type BrokerDeps } from './broker-deps.ts';
import { brokerKeysRoutes } from './broker-keys-routes.ts';
import { brokerQuarantineRoutes } from './broker-quarantine-routes.ts';

export type { BrokerDeps } from './broker-deps.ts';

export async function brokerPlugin(app: FastifyInstance, deps: BrokerDeps): Promise<void> {
  app.setErrorHandler(jsonErrorHandler(deps.logger));
  app.addHook('onRequest', brokerOnly(deps.audit));
  app.addHook('onSend', async (_req, reply) => {
    reply.header('Cache-Control', 'no-store');
    reply.header('Pragma', 'no-cache');
  });
  await brokerKeysRoutes(app, deps);
  await brokerQuarantineRoutes(app, deps);
}
