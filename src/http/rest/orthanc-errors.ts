// Errors on the REST surface in Orthanc's shape (OrthancException → HttpError/HttpStatus/Message),
// so clients that print Orthanc's "Message" keep working. Never echoes the request body.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { AppError, isAppError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';

export function orthancErrorBody(req: FastifyRequest, status: number, message: string, code?: string): Record<string, unknown> {
  return { HttpError: STATUS_CODES[status] ?? 'Error', HttpStatus: status, Message: message, Method: req.method, Uri: req.url.split('?')[0], ...(code ? { Code: code } : {}) };
}

export function orthancErrorHandler(logger: Logger) {
  return (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    if (isAppError(err)) {
      if (err.spec.http >= 500) logger.error('rest request failed', { route: req.routeOptions.url, code: err.code, err });
      return reply.code(err.spec.http).send(orthancErrorBody(req, err.spec.http, err.message, err.code));
    }
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) logger.error('unexpected rest error', { route: req.routeOptions.url, err });
    return reply.code(status).send(orthancErrorBody(req, status, status === 500 ? 'Internal error' : err.message));
  };
}

export function notFound(level: string, id: string): AppError {
  return new AppError('INDEX_NOT_FOUND', { detail: `${level} ${id}` });
}
