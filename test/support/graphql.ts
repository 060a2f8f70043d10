import type { RunningApp } from './app';

/**
 * The data of a GraphQL operation that must succeed. Anything else (an HTTP error, an `errors`
 * array, no data) throws with the whole answer, so a failing test says what the server said.
 */
export async function gqlData<T = any>(
  api: RunningApp,
  query: string,
  variables?: Record<string, unknown>,
): Promise<T> {
  const { status, body } = await api.gql<T>(query, variables);
  if (status !== 200 || (body.errors?.length ?? 0) > 0 || body.data == null) {
    throw new Error(
      `GraphQL operation failed (HTTP ${status}): ${JSON.stringify(body, null, 2)}\n` +
        `operation: ${query.trim()}\nvariables: ${JSON.stringify(variables ?? {})}`,
    );
  }
  return body.data;
}

/** The one error of a GraphQL operation that must fail (throws with the answer otherwise). */
export async function gqlError(
  api: RunningApp,
  query: string,
  variables?: Record<string, unknown>,
): Promise<{ message: string; extensions: { code: string; field?: string; reason?: string } }> {
  const { body } = await api.gql(query, variables);
  if (body.errors?.length !== 1) {
    throw new Error(`expected exactly one error, got: ${JSON.stringify(body, null, 2)}`);
  }
  return body.errors[0];
}
