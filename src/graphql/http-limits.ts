import type { NextFunction, Request, Response } from 'express';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { GraphqlLimitsConfig } from '../config/app-config';

/**
 * The request body limit (GRAPHQL_MAX_BODY_BYTES) for JSON bodies. A larger body is refused
 * before it is read in full, with 413 and a GraphQL-shaped error (PAYLOAD_TOO_LARGE) rather
 * than express's HTML page.
 */
export function applyHttpLimits(app: NestExpressApplication, config: GraphqlLimitsConfig): void {
  app.useBodyParser('json', { limit: config.maxBodyBytes });
  app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    const e = err as { type?: string; status?: number } | null;
    if (e?.type !== 'entity.too.large' || res.headersSent) {
      next(err);
      return;
    }
    res.status(413).json({
      errors: [
        {
          message: `The request body is larger than ${config.maxBodyBytes} bytes (GRAPHQL_MAX_BODY_BYTES)`,
          extensions: { code: 'PAYLOAD_TOO_LARGE' },
        },
      ],
    });
  });
}
