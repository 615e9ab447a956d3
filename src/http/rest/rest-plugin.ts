// The Orthanc-compatible REST surface, at the server root like Orthanc on port 8042, so PyDicer
// and pyorthanc scripts work unmodified. Differences are listed in docs/orthanc-compatibility.md.
import type { FastifyPluginAsync } from 'fastify';
import { anonymizeRoutes } from './anonymize.ts';
import { pipelineJobRoutes } from './jobs-routes.ts';
import { archiveRoutes } from './archive.ts';
import { findRoutes } from './find.ts';
import { instanceDetailRoutes } from './instance-details.ts';
import { instanceImageRoutes } from './instance-images.ts';
import { instanceRoutes } from './instances.ts';
import { labelRoutes } from './labels.ts';
import { mediaRoutes } from './media.ts';
import { modalityRoutes } from './modalities.ts';
import { modifyRoutes } from './modify.ts';
import { orthancErrorHandler } from './orthanc-errors.ts';
import { resourceRoutes } from './resources.ts';
import type { RestDeps } from './rest-deps.ts';
import { systemRoutes } from './system.ts';
import { studySendRoutes } from '../pipeline/study-send-route.ts';
import { gatewayUploadRoutes } from '../pipeline/gateway-upload-route.ts';
import { routeStatusRoutes } from '../pipeline/route-status-routes.ts';

export const restPlugin: FastifyPluginAsync<RestDeps> = async (app, deps) => {
  app.setErrorHandler(orthancErrorHandler(deps.logger));
  await app.register(resourceRoutes, deps);
  await app.register(instanceRoutes, deps);
  await app.register(findRoutes, deps);
  await app.register(systemRoutes, deps);
  await app.register(archiveRoutes, deps);
  await app.register(mediaRoutes, deps);
  await app.register(instanceDetailRoutes, deps);
  await app.register(instanceImageRoutes, deps);
  await app.register(labelRoutes, deps);
  await app.register(modifyRoutes, deps);
  // Always registered (an empty list without peers), as Orthanc always answers /modalities.
  const localAet = (typeof deps.system === 'function' ? deps.system() : deps.system).aet;
  await app.register(modalityRoutes(deps.modalities ?? { peers: [], localAet }), deps);
  if (deps.anonymize) await app.register(anonymizeRoutes(deps.anonymize), deps);
  if (deps.pipeline) await app.register(pipelineJobRoutes(deps.pipeline), deps);
  if (deps.studySend) await app.register(studySendRoutes(deps.studySend), deps);
  if (deps.gatewayUpload) await app.register(gatewayUploadRoutes(deps.gatewayUpload), deps);
  if (deps.routes) await app.register(routeStatusRoutes(deps.routes), deps);
};
