// GraphQL over HTTP: POST /graphql with the API key as a bearer token. Every failure becomes an
// ApiError carrying the server's extensions.code, field and reason.

/** One error of a GraphQL response, as radgraph formats it. */
export interface GraphQLErrorShape {
  message: string;
  extensions?: { code?: unknown; field?: unknown; reason?: unknown };
}

/** NETWORK: the server could not be reached or did not answer with GraphQL. */
export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NETWORK'
  | (string & {});

export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: ErrorCode,
    /** The input at fault, e.g. "input.username". */
    readonly field?: string,
    /** A finer reason, e.g. "INSUFFICIENT_BALANCE". */
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  static fromGraphQL(error: GraphQLErrorShape): ApiError {
    const ext = error.extensions ?? {};
    const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
    return new ApiError(error.message, str(ext.code) ?? 'UNKNOWN', str(ext.field), str(ext.reason));
  }

  /** The field name without its argument prefix: "input.username" → "username". */
  get inputField(): string | undefined {
    return this.field?.replace(/^input\./, '');
  }
}

/** Any thrown value as an ApiError. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  return new ApiError(err instanceof Error ? err.message : String(err), 'UNKNOWN');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** The errors of a GraphQL response or of a graphql-ws error message, if it has any. */
export function graphQLErrors(value: unknown): GraphQLErrorShape[] {
  const list = Array.isArray(value) ? (value as unknown[]) : [];
  return list.filter((e): e is GraphQLErrorShape => isRecord(e) && typeof e.message === 'string');
}

const ENDPOINT = '/graphql';

export class ApiClient {
  constructor(
    private readonly apiKey: string,
    /** Called when the server no longer accepts the key. */
    private readonly onUnauthenticated: (message: string) => void = () => undefined,
  ) {}

  async request<T>(query: string, variables?: Record<string, unknown>): Promise<T> {
    let res: Response;
    try {
      res = await fetch(ENDPOINT, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          authorization: `Bearer ${this.apiKey}`,
        },
        body: JSON.stringify({ query, variables }),
      });
    } catch {
      throw new ApiError('Cannot reach the server. Check your connection.', 'NETWORK');
    }
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      throw new ApiError(`The server answered HTTP ${res.status}.`, 'NETWORK');
    }
    if (!isRecord(body)) throw new ApiError('Unexpected answer from the server.', 'NETWORK');
    const errors = graphQLErrors(body.errors);
    if (errors.length > 0) {
      const error = ApiError.fromGraphQL(errors[0]);
      if (error.code === 'UNAUTHENTICATED') this.onUnauthenticated(error.message);
      throw error;
    }
    if (!res.ok || !isRecord(body.data)) {
      throw new ApiError(`The server answered HTTP ${res.status}.`, 'NETWORK');
    }
    return body.data as T;
  }
}
