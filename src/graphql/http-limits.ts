import type { NextFunction, Request, Response } from 'express';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { GraphqlLimitsConfig } from '../config/app-config';

/** What body-parser's errors carry (http-errors): `type` says which step failed. */
interface BodyParserError {
  type?: unknown;
  status?: unknown;
}

/**
 * Why body-parser could not read a request body, in words of our own: its messages may quote
 * the body (JSON.parse's do), and a body may hold a password or a shared secret.
 */
const UNREADABLE: Record<string, string> = {
  'entity.parse.failed': 'The request body is not valid JSON',
  'charset.unsupported': 'The request body must be JSON in UTF-8 (charset=utf-8)',
  'encoding.unsupported':
    'The request body has a Content-Encoding that is not supported (identity, gzip, deflate, br)',
};

/**
 * The request body limit (GRAPHQL_MAX_BODY_BYTES) for JSON bodies. A larger body is refused
 * before it is read in full, with 413 and a GraphQL-shaped error (PAYLOAD_TOO_LARGE) rather
 * than express's HTML page. Any other body that cannot be read (not JSON, another charset, an
 * unknown or corrupt encoding) gets its 4xx status and a GraphQL-shaped error (BAD_REQUEST):
 * not Nest's own shape, without a code, nor, for some, an error logged with its stack for
 * anyone who sends one.
 */
export function applyHttpLimits(app: NestExpressApplication, config: GraphqlLimitsConfig): void {
  app.useBodyParser('json', { limit: config.maxBodyBytes });
  app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    const e = err as BodyParserError | null;
    const status = typeof e?.status === 'number' ? e.status : 0;
    // Only the middleware before this one can get here: the body parser (a corrupt gzip body
    // is its 400 without a `type`).
    if (status < 400 || status >= 500 || res.headersSent) {
      next(err);
      return;
    }
    const type = typeof e?.type === 'string' ? e.type : '';
    const tooLarge = type === 'entity.too.large';
    res.status(status).json({
      errors: [
        {
          message: tooLarge
            ? `The request body is larger than ${config.maxBodyBytes} bytes (GRAPHQL_MAX_BODY_BYTES)`
            : (UNREADABLE[type] ?? 'The request body could not be read'),
          extensions: { code: tooLarge ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST' },
        },
      ],
    });
  });
}
