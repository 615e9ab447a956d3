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
import { mediaRoutes } from './media.ts';
import { orthancErrorHandler } from './orthanc-errors.ts';
import { resourceRoutes } from './resources.ts';
import type { RestDeps } from './rest-deps.ts';
import { systemRoutes } from './system.ts';

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
  if (deps.anonymize) await app.register(anonymizeRoutes(deps.anonymize), deps);
  if (deps.pipeline) await app.register(pipelineJobRoutes(deps.pipeline), deps);
};
