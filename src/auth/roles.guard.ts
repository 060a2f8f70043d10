import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { GqlExecutionContext, type GqlContextType } from '@nestjs/graphql';
import { ForbiddenError, UnauthenticatedError } from '../common/errors/app-error';
import type { GraphqlContext } from '../graphql/graphql-context';
import { AuthService } from './auth.service';
import { roleAllows, type Role } from './principal';
import { REQUIRED_ROLE } from './roles.decorator';

/**
 * The global guard of every GraphQL operation (Query, Mutation and Subscription fields;
 * Nest runs no guards on field resolvers): UNAUTHENTICATED without a valid caller, FORBIDDEN
 * below the role the resolver declares with @RequireRole, and FORBIDDEN, for everyone, when
 * it declares none (fail closed).
 */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType<GqlContextType>() !== 'graphql') return true;
    const gql = GqlExecutionContext.create(context);
    const principal = gql.getContext<GraphqlContext>().principal;
    if (!principal) throw new UnauthenticatedError('Authentication required');
    // Over HTTP the caller was authenticated for this very request; a graphql-ws caller at
    // connection_init, so check that its key was not revoked since (on another instance).
    if (!gql.getContext<GraphqlContext>().req && !(await this.auth.stillValid(principal))) {
      throw new UnauthenticatedError('This API key has been revoked');
    }
    const required = this.reflector.getAllAndOverride<Role | undefined>(REQUIRED_ROLE, [
      context.getHandler(),
      context.getClass(),
    ]);
    const operation = gql.getInfo<{ fieldName: string }>().fieldName;
    if (required === undefined) {
      throw new ForbiddenError(`${operation} declares no role, so no one may call it`);
    }
    if (!roleAllows(principal.role, required)) {
      throw new ForbiddenError(
        `${operation} needs the ${required} role (yours: ${principal.role})`,
      );
    }
    return true;
  }
}
