import type { ApolloServerPlugin } from '@apollo/server';
import {
  Kind,
  parse,
  type DocumentNode,
  type GraphQLError,
  type OperationDefinitionNode,
} from 'graphql';
import type { SubscribeMessage } from 'graphql-ws';
import type { Metrics } from '../metrics/metrics.service';

/** The operation's root field (its first), as the metric's label; never user text. */
function rootField(operation: OperationDefinitionNode | undefined | null): string {
  const first = operation?.selectionSet.selections.find((s) => s.kind === Kind.FIELD);
  return first?.kind === Kind.FIELD ? first.name.value : '(none)';
}

function operationOf(document: DocumentNode, name?: string | null) {
  return document.definitions.find(
    (d): d is OperationDefinitionNode =>
      d.kind === Kind.OPERATION_DEFINITION && (!name || d.name?.value === name),
  );
}

function outcomeOf(errors: readonly { extensions?: Record<string, unknown> }[] | undefined) {
  if (!errors || errors.length === 0) return 'ok';
  const code = errors[0].extensions?.code;
  return typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR';
}

/** radgraph_graphql_operations_total for HTTP: one count per operation, when it answers. */
export function operationMetricsPlugin(metrics: Metrics): ApolloServerPlugin {
  return {
    requestDidStart: () =>
      Promise.resolve({
        willSendResponse: (ctx) => {
          const body = ctx.response.body;
          const errors = body.kind === 'single' ? body.singleResult.errors : undefined;
          metrics.graphqlOperations.inc({
            operation: ctx.operation ? rootField(ctx.operation) : '(invalid)',
            type: ctx.operation?.operation ?? 'unknown',
            outcome: outcomeOf(errors),
          });
          return Promise.resolve();
        },
      }),
  };
}

/**
 * The same count for graphql-ws, around its onSubscribe: refused operations by their error
 * code, the others as ok when they start (a subscription's events are not operations).
 */
export function countWsOperations<C, R>(
  metrics: Metrics,
  onSubscribe: (ctx: C, id: string, payload: SubscribeMessage['payload']) => Promise<R>,
) {
  return async (ctx: C, id: string, payload: SubscribeMessage['payload']): Promise<R> => {
    const result = await onSubscribe(ctx, id, payload);
    let operation: OperationDefinitionNode | undefined;
    try {
      operation = operationOf(parse(payload.query), payload.operationName);
    } catch {
      operation = undefined;
    }
    metrics.graphqlOperations.inc({
      operation: operation ? rootField(operation) : '(invalid)',
      type: operation?.operation ?? 'unknown',
      outcome: Array.isArray(result) ? outcomeOf(result as readonly GraphQLError[]) : 'ok',
    });
    return result;
  };
}
