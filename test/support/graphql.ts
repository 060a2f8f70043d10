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

/**
 * Creates a profile through the API and returns its id: a 10/5 Mbit/s plan valid 30 days,
 * with `input` (name, data limit, FUP speeds...) over those defaults.
 */
export async function createProfile(
  api: RunningApp,
  input: Record<string, unknown> & { name: string },
): Promise<string> {
  const { createProfile } = await gqlData<{ createProfile: { id: string } }>(
    api,
    `mutation($i: CreateProfileInput!) { createProfile(input: $i) { id } }`,
    { i: { downloadRateKbps: 10240, uploadRateKbps: 5120, validityDays: 30, ...input } },
  );
  return createProfile.id;
}
