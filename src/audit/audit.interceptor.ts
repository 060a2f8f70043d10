import {
  Injectable,
  Logger,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { GqlExecutionContext, type GqlContextType } from '@nestjs/graphql';
import type { GraphQLResolveInfo } from 'graphql';
import { Observable, tap } from 'rxjs';
import type { GraphqlContext } from '../graphql/graphql-context';
import { auditAccountedFor, runAudited } from './audit-context';

/**
 * Opens an audited operation around every GraphQL mutation, over HTTP and graphql-ws: the
 * rows its services write name the caller and the mutation. A mutation that succeeds
 * without writing one is a bug, and is logged as such, unless it said it changes nothing
 * (noteReadOnly: a dry run).
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  private readonly log = new Logger('Audit');

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType<GqlContextType>() !== 'graphql') return next.handle();
    const gql = GqlExecutionContext.create(context);
    const info = gql.getInfo<GraphQLResolveInfo>();
    if (info.parentType.name !== 'Mutation') return next.handle();
    const principal = gql.getContext<GraphqlContext>().principal;
    const actor = { actor: principal.name, actorKind: principal.kind, operation: info.fieldName };
    // next.handle() binds the resolver to the async context it is called in: call it inside.
    return new Observable((subscriber) =>
      runAudited(actor, () =>
        next
          .handle()
          .pipe(
            tap(() => {
              if (!auditAccountedFor()) {
                this.log.error(`${info.fieldName} changed something without an audit row`);
              }
            }),
          )
          .subscribe(subscriber),
      ),
    );
  }
}
