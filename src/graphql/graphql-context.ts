import type { Request } from 'express';
import {
  GraphQLError,
  parse,
  type ExecutionResult,
  type FormattedExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from 'graphql';
import type { Context as WsContext, SubscribeMessage } from 'graphql-ws';
import type { ClosableSocket } from '../auth/api-keys/api-key-connections';
import type { AuthService } from '../auth/auth.service';
import type { Principal } from '../auth/principal';
import { UnauthenticatedError } from '../common/errors/app-error';
import {
  formatGraphQLError,
  toGraphQLError,
  type GraphQLErrorFormatter,
} from '../common/errors/graphql-errors';
import { queryLimitErrors } from './query-limits';
import { markAuthenticated } from './ws-authenticated';

/** What every resolver gets: the authenticated caller, over HTTP or graphql-ws alike. */
export interface GraphqlContext {
  principal: Principal;
  req?: Request;
}

/** graphql-ws keeps the caller found at connection_init in the socket's `extra`. */
interface WsExtra {
  principal?: Principal | null;
  /** Set by onClose: the socket closed, possibly while onConnect was still authenticating. */
  closed?: boolean;
  /** graphql-ws/use/ws puts the connection's WebSocket here. */
  readonly socket?: ClosableSocket;
}
type GraphqlWsContext = WsContext<Record<string, unknown> | undefined, unknown>;
const wsExtra = (ctx: GraphqlWsContext) => ctx.extra as WsExtra;

const MISSING_TOKEN =
  'Authentication required: send the header "Authorization: Bearer <token>" (over graphql-ws: connectionParams.authorization)';

function unauthenticated(): GraphQLError {
  return toGraphQLError(new UnauthenticatedError(MISSING_TOKEN));
}

/**
 * The GraphQL context for both transports. Over HTTP an operation without a valid bearer
 * token fails here, before anything executes, even `{ __typename }`.
 */
export function graphqlContextFactory(auth: AuthService) {
  return async (arg: { req: Request } | GraphqlWsContext): Promise<GraphqlContext> => {
    if ('req' in arg && arg.req) {
      const principal = await auth.authenticate(arg.req.headers.authorization);
      if (principal === null) throw unauthenticated();
      return { principal, req: arg.req };
    }
    const principal = wsExtra(arg as GraphqlWsContext).principal;
    if (!principal) throw unauthenticated();
    return { principal };
  };
}

/** The header value a graphql-ws client sent: connectionParams.authorization (or Authorization). */
function wsAuthorization(ctx: GraphqlWsContext): unknown {
  const params = ctx.connectionParams ?? {};
  return params.authorization ?? params.Authorization;
}

/**
 * Why a document did not parse, as HTTP says it: its syntax error, or, for a document nested
 * too deeply for graphql-js's recursive parser (a RangeError, which graphql-ws would answer by
 * closing the whole connection with 4500 and a stack trace on stderr), GRAPHQL_PARSE_FAILED.
 */
function unparsable(err: unknown): GraphQLError {
  if (err instanceof GraphQLError) return err;
  return new GraphQLError('The document is nested too deeply to parse', {
    extensions: { code: 'GRAPHQL_PARSE_FAILED' },
  });
}

/**
 * graphql-ws hooks. The connection is accepted either way, so that every operation on a
 * socket without a valid token gets a proper `UNAUTHENTICATED` error rather than a bare close;
 * such a socket is closed (4401) after GRAPHQL_WS_AUTH_TIMEOUT_SECONDS (ws-limits.ts).
 * `schema` gives the served schema (the complexity limit reads its list sizes).
 */
export function graphqlWsAuthHooks(auth: AuthService, schema: () => GraphQLSchema) {
  return {
    onConnect: async (ctx: GraphqlWsContext) => {
      const principal = await auth.authenticate(wsAuthorization(ctx));
      wsExtra(ctx).principal = principal;
      // Closed while its token was being checked: graphql-ws ran onClose already (before the
      // principal was set), so a socket kept by its key now would never be forgotten.
      if (wsExtra(ctx).closed) return false;
      const socket = wsExtra(ctx).socket;
      // Not closed after GRAPHQL_WS_AUTH_TIMEOUT_SECONDS, nor counted per address (ws-limits).
      if (principal && socket) markAuthenticated(socket);
      // Revoking an API key closes its open connections: keep them by key.
      if (principal?.kind === 'api-key' && socket) auth.connections.add(principal.keyId, socket);
      return true;
    },
    onClose: (ctx: GraphqlWsContext) => {
      wsExtra(ctx).closed = true;
      const { principal, socket } = wsExtra(ctx);
      if (principal?.kind === 'api-key' && socket) auth.connections.remove(principal.keyId, socket);
    },
    onSubscribe: (ctx: GraphqlWsContext, _id: string, payload: SubscribeMessage['payload']) => {
      if (!wsExtra(ctx).principal) return [unauthenticated()];
      // Apollo's validation rules do not run on graphql-ws: the same limits apply here.
      let document;
      try {
        document = parse(payload.query);
      } catch (err) {
        return [unparsable(err)];
      }
      const errors = queryLimitErrors(document, schema());
      return errors.length > 0 ? errors : undefined;
    },
  };
}

/**
 * Apollo's formatError does not run on graphql-ws: these hooks give WebSocket operations the
 * same error shape as HTTP (extensions.code and field; unexpected errors logged and shown
 * only as "Internal server error"), with the same formatter.
 */
export function graphqlWsErrorHooks(format: GraphQLErrorFormatter = formatGraphQLError) {
  const formatOne = (error: GraphQLError): GraphQLFormattedError => format(error.toJSON(), error);
  /**
   * Each result's errors formatted once: subscribers of one operation share one result per
   * event (shared-subscribe.ts), and an unexpected error is logged, with its stack, where it
   * is formatted: once, not once per subscriber (a field failing with the database down
   * would log a thousand stacks an event for a thousand dashboards).
   */
  const formatted = new WeakMap<ExecutionResult, FormattedExecutionResult>();
  return {
    onNext: (
      _ctx: unknown,
      _id: string,
      _payload: unknown,
      _args: unknown,
      result: ExecutionResult,
    ) => {
      if (!result.errors) return undefined;
      let out = formatted.get(result);
      if (!out) {
        out = { ...result, errors: result.errors.map(formatOne) };
        formatted.set(result, out);
      }
      return out;
    },
    // Errors before execution: the document did not parse or validate (HTTP gives these codes).
    onError: (_ctx: unknown, _id: string, _payload: unknown, errors: readonly GraphQLError[]) =>
      errors.map((error) => {
        const code = preExecutionCode(error);
        if (code === undefined) return formatOne(error);
        return format({ ...error.toJSON(), extensions: { code } }, error);
      }),
  };
}

/**
 * The code HTTP gives an error graphql-js raised before execution without one (a syntax or
 * validation error); undefined for an error that has its own code or cause.
 */
export function preExecutionCode(error: GraphQLError): string | undefined {
  if (error.extensions.code !== undefined || error.originalError) return undefined;
  return error.message.startsWith('Syntax Error')
    ? 'GRAPHQL_PARSE_FAILED'
    : 'GRAPHQL_VALIDATION_FAILED';
}
