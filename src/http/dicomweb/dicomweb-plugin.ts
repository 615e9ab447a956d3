// DICOMweb (PS3.18) under /dicom-web: QIDO-RS, WADO-RS (instances, metadata, bulk data, frames,
// rendered, thumbnails) and STOW-RS.
import type { FastifyPluginAsync } from 'fastify';
import { jsonErrorHandler } from '../error-handler.ts';
import type { DicomwebDeps } from './dicomweb-deps.ts';
import { qidoRoutes } from './qido.ts';
import { renderedRoutes } from './rendered.ts';
import { stowRoutes } from './stow.ts';
import { wadoRoutes } from './wado.ts';

export const dicomwebPlugin: FastifyPluginAsync<DicomwebDeps> = async (app, deps) => {
  app.setErrorHandler(jsonErrorHandler(deps.logger));
  // Only the deps: passing the registration options on would repeat their `prefix` in children.
  const own: DicomwebDeps = { archive: deps.archive, audit: deps.audit, logger: deps.logger };
  await app.register(qidoRoutes, own);
  await app.register(wadoRoutes, own);
  await app.register(stowRoutes, own);
  await app.register(renderedRoutes, own);
};
