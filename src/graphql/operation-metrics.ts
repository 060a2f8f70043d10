import type { ApolloServerPlugin } from '@apollo/server';
import {
  Kind,
  parse,
  validate,
  type DocumentNode,
  type GraphQLError,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import type { SubscribeMessage } from 'graphql-ws';
import type { Metrics } from '../metrics/metrics.service';
import { preExecutionCode } from './graphql-context';

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

/**
 * radgraph_graphql_operations_total for HTTP: one count per operation, when it answers; and
 * one per request refused before its document was read (no token, a wrong one, the rate
 * limit: the context failed), as "(invalid)" with that error's code.
 */
export function operationMetricsPlugin(metrics: Metrics): ApolloServerPlugin {
  return {
    contextCreationDidFail: ({ error }) => {
      metrics.graphqlOperations.inc({
        operation: '(invalid)',
        type: 'unknown',
        outcome: outcomeOf([error as { extensions?: Record<string, unknown> }]),
      });
      return Promise.resolve();
    },
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
 * code, the others as ok when they start (a subscription's events are not operations). An
 * operation is named by its root field only when the schema has that field, as on HTTP
 * (where a document that does not validate is "(invalid)"): the document is the client's
 * text, sent before any authentication, and each made-up name would be one more series.
 * So an operation onSubscribe let through is validated here, and one that does not validate
 * answered with those errors (graphql-ws would have answered with the same).
 */
export function countWsOperations<C, R>(
  metrics: Metrics,
  schema: () => GraphQLSchema,
  onSubscribe: (
    ctx: C,
    id: string,
    payload: SubscribeMessage['payload'],
  ) => Promise<R | readonly GraphQLError[]>,
) {
  return async (
    ctx: C,
    id: string,
    payload: SubscribeMessage['payload'],
  ): Promise<R | readonly GraphQLError[]> => {
    let result = await onSubscribe(ctx, id, payload);
    let document: DocumentNode | undefined;
    try {
      document = parse(payload.query);
    } catch {
      document = undefined;
    }
    if (result === undefined && document) {
      const errors = validate(schema(), document);
      if (errors.length > 0) result = errors;
    }
    const operation = document && operationOf(document, payload.operationName);
    const known = operation && knownRootField(schema(), operation);
    const refused = Array.isArray(result) ? (result as readonly GraphQLError[]) : undefined;
    metrics.graphqlOperations.inc({
      operation: known?.field ?? '(invalid)',
      type: known?.type ?? 'unknown',
      outcome: refused ? outcomeOf(refused.map(withPreExecutionCode)) : 'ok',
    });
    return result;
  };
}

/** The operation's root field when the schema has it on that operation's root type. */
function knownRootField(schema: GraphQLSchema, operation: OperationDefinitionNode) {
  const field = rootField(operation);
  const known = schema.getRootType(operation.operation)?.getFields()[field] !== undefined;
  return known ? { field, type: operation.operation } : undefined;
}

const withPreExecutionCode = (error: GraphQLError) => {
  const code = preExecutionCode(error);
  return code === undefined ? error : { extensions: { code } };
};
