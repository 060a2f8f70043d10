import { ArgumentsHost, Catch, HttpStatus } from '@nestjs/common';
import type { GqlExceptionFilter } from '@nestjs/graphql';
import type { Response } from 'express';
import { AppError, type ErrorCode } from './app-error';
import { toGraphQLError } from './graphql-errors';

const HTTP_STATUS: Record<ErrorCode, number> = {
  BAD_USER_INPUT: HttpStatus.BAD_REQUEST,
  NOT_FOUND: HttpStatus.NOT_FOUND,
  CONFLICT: HttpStatus.CONFLICT,
  UNAUTHENTICATED: HttpStatus.UNAUTHORIZED,
  FORBIDDEN: HttpStatus.FORBIDDEN,
};

/**
 * The one global filter: a typed AppError thrown anywhere becomes a coded GraphQL error, or,
 * from an HTTP controller, a JSON error with the matching status.
 */
@Catch(AppError)
export class AppErrorFilter implements GqlExceptionFilter {
  catch(error: AppError, host: ArgumentsHost) {
    if (host.getType() === 'http') {
      const res = host.switchToHttp().getResponse<Response>();
      res.status(HTTP_STATUS[error.code]).json({
        error: {
          code: error.code,
          message: error.message,
          field: error.field,
          reason: error.reason,
        },
      });
      return undefined;
    }
    return toGraphQLError(error);
  }
}
