// How auth failures are answered: the catalog's HTTP status and a small JSON body with the code.
import type { FastifyReply } from 'fastify';
import { ERRORS, type ErrorCode } from '../../core/errors.ts';

export function sendAuthError(reply: FastifyReply, code: ErrorCode, message?: string): FastifyReply {
  return reply
    .code(ERRORS[code].http)
    .header('Cache-Control', 'no-store')
    .send({ error: code, message: message ?? ERRORS[code].text });
}
