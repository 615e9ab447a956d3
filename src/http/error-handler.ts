// One error handler per surface scope (STYLE: only edges translate). AppError answers with the
// catalog's status; fastify's own errors (validation, body too large) keep theirs; anything else
// is a bug: 500 with no detail, logged with the route (never the URL's query, which may carry UIDs).
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isAppError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';

export function jsonErrorHandler(logger: Logger) {
  return (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    if (isAppError(err)) {
      if (err.spec.http >= 500) logger.error('request failed', { route: req.routeOptions.url, code: err.code, err });
      return reply.code(err.spec.http).send({ error: err.code, message: err.message });
    }
    if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.code(err.statusCode).send({ error: err.code ?? 'BAD_REQUEST', message: err.message });
    }
    logger.error('unexpected error', { route: req.routeOptions.url, err });
    return reply.code(500).send({ error: 'INTERNAL', message: 'Internal error' });
  };
}
