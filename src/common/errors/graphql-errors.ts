import { Logger } from '@nestjs/common';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { SubscriptionEndedError } from '../pubsub/coalescing-queue';
import { isLockConflict } from '../../database/database-errors';
import { AppError } from './app-error';

/** An AppError as the GraphQLError a client sees: message, extensions.code, field, reason. */
export function toGraphQLError(error: AppError): GraphQLError {
  const status = error.code === 'UNAUTHENTICATED' ? 401 : undefined;
  return new GraphQLError(error.message, {
    originalError: error,
    extensions: {
      code: error.code,
      ...(error.field !== undefined && { field: error.field }),
      ...(error.reason !== undefined && { reason: error.reason }),
      ...(status !== undefined && { http: { status } }),
    },
  });
}

/** Codes that GraphQL itself and Apollo give to errors of the request, not of the server. */
const CLIENT_CODES = new Set([
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'CONFLICT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'BAD_REQUEST',
  // query-limits.ts
  'QUERY_TOO_DEEP',
  'QUERY_TOO_COMPLEX',
  // request-limits.ts
  'RATE_LIMITED',
  'BATCH_TOO_LARGE',
  'TOO_MANY_OPERATIONS',
]);

/** Codes of our own validation rules (query-limits.ts), which Apollo would hide. */
const OWN_VALIDATION_CODES = new Set(['QUERY_TOO_DEEP', 'QUERY_TOO_COMPLEX']);

const logger = new Logger('GraphQL');

const BAD_VARIABLE = /^Variable "\$([^"]+)" got invalid value /;

/**
 * graphql-js repeats a variable's whole value when it cannot coerce it (`Variable "$i" got
 * invalid value { secret: "…", … }; Field "x" is not defined…`): a password or a shared
 * secret sent beside one wrong field would come back in the error. The value is left out;
 * where it went wrong and why stay.
 */
export function redactVariableValue(message: string): string {
  const head = BAD_VARIABLE.exec(message);
  if (!head) return message;
  const rest = message.slice(head[0].length);
  const at = [...rest.matchAll(/ at "([^"]*)"; /g)].pop();
  const cut = rest.lastIndexOf('; ');
  // Why, without a value it may repeat ("String cannot represent a non string value: …").
  const why = cut < 0 ? '' : rest.slice(cut + 2).replace(/^([^:]*?value):[\s\S]*$/, '$1.');
  return `Variable "$${head[1]}" got an invalid value${at ? ` at "${at[1]}"` : ''}${why ? `: ${why}` : '.'}`;
}

/**
 * Apollo's formatError: expected errors pass through with their code; anything else is
 * logged with its stack and shown only as a generic message, so no SQL, path or secret in an
 * unexpected error ever reaches a client.
 */
export function formatGraphQLError(
  formatted: GraphQLFormattedError,
  error: unknown,
): GraphQLFormattedError {
  formatted = { ...formatted, message: redactVariableValue(formatted.message) };
  const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
  if (original instanceof AppError) {
    const { http: _http, ...extensions } = toGraphQLError(original).extensions;
    return { ...formatted, message: original.message, extensions };
  }
  if (original instanceof SubscriptionEndedError) {
    // A subscriber that read too slowly (SLOW_CONSUMER), may have missed events
    // (EVENTS_MISSED), or whose NAS filter changed (NAS_CHANGED, NOT_FOUND): its subscription
    // ends with this error.
    const { code, field } = original;
    return {
      ...formatted,
      message: original.message,
      extensions: { code, ...(field !== undefined && { field }) },
    };
  }
  const ownCode = original instanceof GraphQLError ? original.extensions.code : undefined;
  if (typeof ownCode === 'string' && OWN_VALIDATION_CODES.has(ownCode)) {
    // Apollo rewrites every validation error's code to GRAPHQL_VALIDATION_FAILED; ours stays.
    return { ...formatted, extensions: { code: ownCode } };
  }
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && CLIENT_CODES.has(code)) {
    const { stacktrace: _stack, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions };
  }
  if (isLockConflict(original)) {
    // Two changes to the same rows at once (e.g. a CSV import, a profile change of one of its
    // customers and a rename of that profile): the database undid this one. Not a fault of
    // the server: the client may simply send it again.
    logger.warn(
      `Lock conflict${formatted.path ? ` at ${formatted.path.join('.')}` : ''}: ${
        (original as Error).message
      }`,
    );
    return {
      message:
        'Another change to the same records was being made at the same time, so this one was undone: nothing was written. Send it again.',
      ...(formatted.path && { path: formatted.path }),
      ...(formatted.locations && { locations: formatted.locations }),
      extensions: { code: 'CONFLICT', reason: 'CONCURRENT_CHANGE' },
    };
  }
  if (error instanceof GraphQLError && error.originalError === undefined && code === undefined) {
    // A GraphQL-level error without a code (e.g. variable coercion): the request was at fault.
    return { ...formatted, extensions: { code: 'BAD_USER_INPUT' } };
  }
  logger.error(
    `Unexpected error${formatted.path ? ` at ${formatted.path.join('.')}` : ''}: ${
      original instanceof Error ? (original.stack ?? original.message) : String(original)
    }`,
  );
  return {
    message: 'Internal server error',
    ...(formatted.path && { path: formatted.path }),
    ...(formatted.locations && { locations: formatted.locations }),
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  };
}

/** graphql-js's suggestion at the end of a message: ` Did you mean "apiKeys"?`. */
const SUGGESTION = / ?Did you mean [\s\S]*\?$/;

/** A message without graphql-js's "Did you mean …?", which names fields, types and values. */
export function withoutSuggestions(message: string): string {
  return message.replace(SUGGESTION, '');
}

export type GraphQLErrorFormatter = (
  formatted: GraphQLFormattedError,
  error: unknown,
) => GraphQLFormattedError;

/**
 * formatGraphQLError, and, when the schema is to stay hidden (introspection off), without
 * graphql-js's suggestions: a typo would otherwise be answered with the names of fields,
 * arguments, types and enum values (`Did you mean "apiKeys"?`), the schema a name at a time.
 */
export function graphqlErrorFormatter(opts: { hideSchemaDetails: boolean }): GraphQLErrorFormatter {
  if (!opts.hideSchemaDetails) return formatGraphQLError;
  return (formatted, error) => {
    const out = formatGraphQLError(
      { ...formatted, message: withoutSuggestions(formatted.message) },
      error,
    );
    return { ...out, message: withoutSuggestions(out.message) };
  };
}
