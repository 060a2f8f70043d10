import { Catch } from '@nestjs/common';
import type { GqlExceptionFilter } from '@nestjs/graphql';
import { AppError } from './app-error';
import { toGraphQLError } from './graphql-errors';

/** The one global filter: a typed AppError thrown anywhere becomes a coded GraphQL error. */
@Catch(AppError)
export class AppErrorFilter implements GqlExceptionFilter {
  catch(error: AppError) {
    return toGraphQLError(error);
  }
}
