import { Logger } from '@nestjs/common';
import {
  buildSchema,
  GraphQLError,
  parse,
  type DocumentNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { getVariableValues } from 'graphql/execution/values';
import { BadUserInputError, ConflictError } from './app-error';
import { EventsMissedError, SlowConsumerError } from '../pubsub/coalescing-queue';
import { formatGraphQLError, graphqlErrorFormatter, redactVariableValue } from './graphql-errors';

describe('formatGraphQLError', () => {
  it('passes a typed error through with its code, field and reason', () => {
    const error = new GraphQLError('x', {
      originalError: new BadUserInputError('input.username', 'Username is taken', 'USERNAME_TAKEN'),
    });
    expect(formatGraphQLError({ message: 'x' }, error)).toEqual({
      message: 'Username is taken',
      extensions: { code: 'BAD_USER_INPUT', field: 'input.username', reason: 'USERNAME_TAKEN' },
    });
    const conflict = formatGraphQLError({ message: 'x' }, new ConflictError('in use'));
    expect(conflict.extensions).toEqual({ code: 'CONFLICT' });
  });

  it('hides an unexpected error behind a generic message', () => {
    const spy = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const error = new GraphQLError('boom', {
      originalError: new Error("ER_PARSE_ERROR: near 'SELECT secret FROM nas'"),
    });
    const formatted = formatGraphQLError(
      {
        message: "ER_PARSE_ERROR: near 'SELECT secret FROM nas'",
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      },
      error,
    );
    expect(formatted).toEqual({
      message: 'Internal server error',
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
    expect(spy).toHaveBeenCalledWith(expect.stringContaining('ER_PARSE_ERROR'));
    spy.mockRestore();
  });

  it('gives a lost lock race (deadlock, lock wait timeout) CONFLICT, not an internal error', () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    for (const driverError of [
      { code: 'ER_LOCK_DEADLOCK', errno: 1213, message: 'Deadlock found when trying to get lock' },
      { code: 'ER_LOCK_WAIT_TIMEOUT', errno: 1205, message: 'Lock wait timeout exceeded' },
    ]) {
      // As TypeORM wraps it (QueryFailedError keeps the driver's error).
      const original = Object.assign(new Error(driverError.message), { driverError });
      const formatted = formatGraphQLError(
        { message: 'x', path: ['changeCustomerProfile'] },
        new GraphQLError('x', { originalError: original }),
      );
      expect(formatted).toEqual({
        message: expect.stringMatching(/^Another change to the same records .* Send it again\.$/),
        path: ['changeCustomerProfile'],
        extensions: { code: 'CONFLICT', reason: 'CONCURRENT_CHANGE' },
      });
    }
    expect(warn).toHaveBeenCalledTimes(2);
    expect(error).not.toHaveBeenCalled();
    warn.mockRestore();
    error.mockRestore();
  });

  it('keeps the codes of request errors (validation, parse) and drops stack traces', () => {
    const formatted = formatGraphQLError(
      {
        message: 'Cannot query field "nope"',
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED', stacktrace: ['at x'] },
      },
      new GraphQLError('Cannot query field "nope"'),
    );
    expect(formatted.extensions).toEqual({ code: 'GRAPHQL_VALIDATION_FAILED' });
  });
});

describe('a dropped slow subscriber', () => {
  it('gets SLOW_CONSUMER and the reason, not an internal error', () => {
    const error = new GraphQLError('x', { originalError: new SlowConsumerError('too slow') });
    expect(formatGraphQLError(error.toJSON(), error)).toEqual({
      message: 'too slow',
      extensions: { code: 'SLOW_CONSUMER' },
    });
  });

  it('gets EVENTS_MISSED when its instance was away from Redis', () => {
    const error = new GraphQLError('x', { originalError: new EventsMissedError('reload') });
    expect(formatGraphQLError(error.toJSON(), error)).toEqual({
      message: 'reload',
      extensions: { code: 'EVENTS_MISSED' },
    });
  });
});

describe('redactVariableValue', () => {
  const schema = buildSchema(`
    input I { name: String!  secret: String!  port: Int }
    type Query { ok(i: I!): Boolean }
  `);
  /** graphql-js's own message for these variables. */
  const coerce = (i: unknown) => {
    const errors = validateVariables(schema, parse('query($i: I!) { ok(i: $i) }'), { i });
    return errors.map((e) => redactVariableValue(e.message));
  };

  it.each([
    [
      { name: 'a', secret: 'S3CRET; x', extra: 1 },
      'Variable "$i" got an invalid value: Field "extra" is not defined by type "I".',
    ],
    [
      { name: 'a', secret: 'S3CRET', port: 'S3CRET' },
      'Variable "$i" got an invalid value at "i.port": Int cannot represent non-integer value.',
    ],
    [
      { name: 'a', secret: { S3CRET: 1 } },
      'Variable "$i" got an invalid value at "i.secret": String cannot represent a non string value.',
    ],
    [
      { secret: 'S3CRET' },
      'Variable "$i" got an invalid value: Field "name" of required type "String!" was not provided.',
    ],
  ])('leaves the value out, keeps where and why (%#)', (value, expected) => {
    const [message] = coerce(value);
    expect(message).toBe(expected);
    expect(message).not.toContain('S3CRET');
  });

  it('leaves other messages alone', () => {
    expect(redactVariableValue('Cannot query field "x" on type "Query".')).toBe(
      'Cannot query field "x" on type "Query".',
    );
  });
});

function validateVariables(
  schema: GraphQLSchema,
  doc: DocumentNode,
  values: Record<string, unknown>,
) {
  const operation = doc.definitions[0] as OperationDefinitionNode;
  const result = getVariableValues(schema, operation.variableDefinitions ?? [], values);
  return 'errors' in result ? (result.errors ?? []) : [];
}

describe('graphqlErrorFormatter', () => {
  const typo = (message: string) =>
    new GraphQLError(message, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });

  it.each([
    [
      'Cannot query field "apiKey" on type "Query". Did you mean "apiKeys"?',
      'Cannot query field "apiKey" on type "Query".',
    ],
    [
      'Unknown argument "frist" on field "Query.customers". Did you mean "first"?',
      'Unknown argument "frist" on field "Query.customers".',
    ],
    [
      'Cannot query field "nam" on type "Nas". Did you mean "name", "type", or "shortname"?',
      'Cannot query field "nam" on type "Nas".',
    ],
  ])('drops the suggestion when the schema is hidden: %s', (message, hidden) => {
    const error = typo(message);
    expect(graphqlErrorFormatter({ hideSchemaDetails: true })(error.toJSON(), error).message).toBe(
      hidden,
    );
    expect(graphqlErrorFormatter({ hideSchemaDetails: false })(error.toJSON(), error).message).toBe(
      message,
    );
  });
});
