import { Logger } from '@nestjs/common';
import { GraphQLError } from 'graphql';
import { BadUserInputError, ConflictError } from './app-error';
import { SlowConsumerError } from '../pubsub/coalescing-queue';
import { formatGraphQLError } from './graphql-errors';

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
});
