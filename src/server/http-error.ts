/** HTTP errors that know their status, and the one handler that turns every error into `{error: {code, message}}`. */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { z } from 'zod';

export class HttpError extends Error {
  /** `details` join `code` and `message` in the body (e.g. `problems` of a refused draft, `phrases` of a refused reply). */
  constructor(readonly status: number, readonly code: string, message: string, readonly details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'HttpError';
  }

  body(): { error: { code: string; message: string } & Record<string, unknown> } {
    return { error: { ...this.details, code: this.code, message: this.message } };
  }
}

/** Parses a request part with a zod schema; a mismatch is a 400 naming the field and the reason. */
export function parseOr400<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const first = parsed.error.issues[0];
  const where = first?.path.length ? `${first.path.join('.')}: ` : '';
  throw new HttpError(400, 'invalid_request', `${where}${first?.message ?? 'invalid request'}`);
}

export const notFound: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, 'not_found', `no route ${req.method} ${req.path}`));
};

/** The one boundary: known errors keep their status; body-parser errors become 400/413; the rest 500, logged. */
export function errorHandler(log: { error(obj: object, msg?: string): void }): ErrorRequestHandler {
  return (error: unknown, _req, res, _next) => {
    if (error instanceof HttpError) { res.status(error.status).json(error.body()); return; }
    const e = error as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.too.large') { res.status(413).json({ error: { code: 'too_large', message: 'request body too large' } }); return; }
    if (e.type === 'entity.parse.failed' || e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') {
      res.status(400).json({ error: { code: 'invalid_json', message: 'request body is not valid JSON' } });
      return;
    }
    log.error({ err: error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : String(error) }, 'request failed');
    res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
  };
}
