import { GraphQLError } from 'graphql';

/**
 * A scalar's refusal of a client's value: BAD_USER_INPUT. graphql-js adds the argument or
 * variable path it was given at to the message.
 */
export function badScalarInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}
