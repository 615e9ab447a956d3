// Orthanc reads JSON bodies whatever their Content-Type, and its clients rely on it: pyorthanc's
// deprecated client (which PyDicer uses) posts json.dumps(...) with no Content-Type at all, and
// `curl -d` sends application/x-www-form-urlencoded. In this scope such bodies are parsed as JSON.
import type { FastifyInstance } from 'fastify';

export function acceptJsonWithAnyType(app: FastifyInstance): void {
  const parse = (_req: unknown, body: string, done: (err: Error | null, value?: unknown) => void) => {
    if (body.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(body));
    } catch {
      const e = new Error('body is not valid JSON') as Error & { statusCode: number };
      e.statusCode = 400;
      done(e);
    }
  };
  app.addContentTypeParser('*', { parseAs: 'string' }, parse);
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, parse);
}
