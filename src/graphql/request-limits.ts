import type { IncomingMessage } from 'node:http';
import { HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import type { Request } from 'express';
import { GraphQLError, parse, visit, type DocumentNode } from 'graphql';
import type { Context as WsContext, SubscribeMessage } from 'graphql-ws';
import type { Principal } from '../auth/principal';
import { clientAddress, type TrustFunction } from '../common/http/client-address';
import type { GraphqlLimitsConfig } from '../config/app-config';
import { pageSizeErrors } from './page-size';
import { RateLimiter } from './rate-limiter';
import { markUnauthenticated } from './ws-authenticated';

type GraphqlWsContext = WsContext<Record<string, unknown> | undefined, unknown>;

/** Who is calling (see GraphqlContext). */
interface WithPrincipal {
  principal?: Principal | null;
}

/** What these limits keep in, and read from, a graphql-ws connection's `extra`. */
interface WsLimitsExtra extends WithPrincipal {
  /** graphql-ws/use/ws puts the upgrade request and the socket here. */
  readonly request?: IncomingMessage;
  readonly socket?: object;
  /** Set when the connection came while its address was over its failed-login budget. */
  authRateLimited?: boolean;
  /** The client's address bucket, found once at connection_init (TRUST_PROXY applied). */
  ipKey?: string;
}

/**
 * Per-caller rate limits, batching and page size for both transports. One instance per app:
 * it holds the token buckets.
 */
export class RequestLimits {
  readonly limiter: RateLimiter;

  /**
   * `trust`: which proxies may name the client (TRUST_PROXY, compileTrustProxy); an address's
   * budget is its client's, not that of the proxy every client comes through.
   */
  constructor(
    readonly config: GraphqlLimitsConfig,
    private readonly trust: TrustFunction = () => false,
  ) {
    this.limiter = new RateLimiter({
      perMinute: config.rateLimitPerMinute,
      burst: config.rateLimitBurst,
    });
  }

  /**
   * Wraps the GraphQL context factory. Over HTTP: a batch over GRAPHQL_MAX_BATCH_SIZE is
   * refused (BATCH_TOO_LARGE); an address whose failed authentications used up its budget is
   * refused before authenticating (so keys cannot be guessed at speed); every operation of
   * the request takes a token from its caller's bucket (the key, or the address without one).
   * graphql-ws connections and operations are limited in wsOnConnect and wsOnSubscribe.
   */
  context<A, C>(inner: (arg: A) => Promise<C>): (arg: A) => Promise<C> {
    return async (arg: A) => {
      const req = (arg as { req?: Request }).req;
      if (!req) return inner(arg);
      const operations = this.checkBatch(req.body);
      const ip = ipKey(clientAddress(req, this.trust));
      this.enforce(this.limiter.check(ip));
      let context: C;
      try {
        context = await inner(arg);
      } catch (err) {
        if (isUnauthenticated(err)) this.limiter.take(ip);
        throw err;
      }
      const principal = (context as WithPrincipal).principal;
      this.enforce(this.limiter.take(principal ? principalKey(principal) : ip, operations));
      return context;
    };
  }

  /**
   * Wraps graphql-ws's onConnect (which authenticates the connection_init's token) with the
   * limit on failed authentications HTTP has: an address over its budget is not
   * authenticated at all (its operations get RATE_LIMITED until it connects again later),
   * and a connection without a valid token takes a token from its address. Without it a
   * guesser, past the budget, would still tell a right token (an answer) from a wrong one
   * (RATE_LIMITED).
   */
  wsOnConnect<R>(inner: (ctx: GraphqlWsContext) => Promise<R>) {
    return async (ctx: GraphqlWsContext): Promise<R | true> => {
      const extra = ctx.extra as WsLimitsExtra;
      const ip = this.wsIpKey(extra);
      const wait = this.limiter.check(ip);
      if (wait > 0) {
        extra.principal = null;
        extra.authRateLimited = true;
        markUnauthenticated(extra.socket);
        return true;
      }
      const result = await inner(ctx);
      if (!extra.principal) {
        this.limiter.take(ip);
        markUnauthenticated(extra.socket);
      }
      return result;
    };
  }

  /** A graphql-ws connection's address bucket: its client's, read once per connection. */
  private wsIpKey(extra: WsLimitsExtra): string {
    extra.ipKey ??= ipKey(extra.request && clientAddress(extra.request, this.trust));
    return extra.ipKey;
  }

  /**
   * Wraps graphql-ws's onSubscribe (every operation on a socket, not only subscriptions):
   * the caller's rate limit first, then the inner hook (authentication, depth, complexity),
   * then the operations open on the connection (GRAPHQL_WS_MAX_OPERATIONS:
   * TOO_MANY_OPERATIONS), introspection (when off) and page size, which Apollo's plugins and
   * validation rules do not cover on graphql-ws.
   */
  wsOnSubscribe<R>(
    inner: (ctx: GraphqlWsContext, id: string, payload: SubscribeMessage['payload']) => R,
  ) {
    return async (
      ctx: GraphqlWsContext,
      id: string,
      payload: SubscribeMessage['payload'],
    ): Promise<Awaited<R> | readonly GraphQLError[]> => {
      const extra = ctx.extra as WsLimitsExtra;
      const principal = extra.principal;
      const ip = this.wsIpKey(extra);
      if (extra.authRateLimited) return [authRateLimited(Math.max(1, this.limiter.check(ip)))];
      const key = principal ? principalKey(principal) : ip;
      const wait = this.limiter.take(key);
      if (wait > 0) return [rateLimited(wait)];
      const result = await inner(ctx, id, payload);
      if (result !== undefined) return result;
      // graphql-ws keeps this connection's operations in progress, this one included.
      const open = Object.keys(ctx.subscriptions).length;
      if (open > this.config.wsMaxOperations)
        return [tooManyOperations(this.config.wsMaxOperations)];
      let document: DocumentNode;
      try {
        document = parse(payload.query);
      } catch {
        return result; // graphql-ws reports the syntax error itself
      }
      if (!this.config.introspection && usesIntrospection(document)) {
        return [introspectionDisabled()];
      }
      const errors = pageSizeErrors(document, payload.variables);
      return errors.length > 0 ? errors : result;
    };
  }

  /** Apollo plugin: page size, once per operation, with the variables (HTTP). */
  readonly plugin: ApolloServerPlugin = {
    requestDidStart: () =>
      Promise.resolve({
        didResolveOperation: ({ document, request }) => {
          const [error] = pageSizeErrors(document, request.variables);
          return error ? Promise.reject(error) : Promise.resolve();
        },
      }),
  };

  private checkBatch(body: unknown): number {
    if (!Array.isArray(body)) return 1;
    const max = this.config.maxBatchSize;
    if (body.length > max) {
      throw new GraphQLError(
        max === 1
          ? 'Batched requests are off: send one operation per request (GRAPHQL_MAX_BATCH_SIZE=1)'
          : `A batch holds at most ${max} operations, got ${body.length} (GRAPHQL_MAX_BATCH_SIZE)`,
        { extensions: { code: 'BATCH_TOO_LARGE', http: { status: 400 } } },
      );
    }
    return Math.max(1, body.length);
  }

  private enforce(waitSeconds: number): void {
    if (waitSeconds > 0) throw rateLimited(waitSeconds);
  }
}

/**
 * A caller's bucket: an API key by its id, the admin token by its kind. Never by name: a key's
 * name is its owner's choice, and a key named like the admin token ("admin-token", allowed
 * before such names were reserved) would have shared, and emptied, the admin token's bucket.
 */
export function principalKey(principal: Principal): string {
  return principal.kind === 'api-key' ? `key:${principal.keyId}` : principal.kind;
}

function ipKey(address: string | undefined): string {
  return `ip:${address ?? 'unknown'}`;
}

function isUnauthenticated(err: unknown): boolean {
  return err instanceof GraphQLError && err.extensions.code === 'UNAUTHENTICATED';
}

function rateLimited(waitSeconds: number): GraphQLError {
  return new GraphQLError(
    `Too many requests: retry in ${waitSeconds} s (GRAPHQL_RATE_LIMIT_PER_MINUTE)`,
    {
      extensions: {
        code: 'RATE_LIMITED',
        retryAfterSeconds: waitSeconds,
        http: { status: 429, headers: new HeaderMap([['retry-after', String(waitSeconds)]]) },
      },
    },
  );
}

function authRateLimited(waitSeconds: number): GraphQLError {
  return new GraphQLError(
    `Too many failed authentications from this address: connect again in ${waitSeconds} s (GRAPHQL_RATE_LIMIT_PER_MINUTE)`,
    { extensions: { code: 'RATE_LIMITED', retryAfterSeconds: waitSeconds } },
  );
}

function tooManyOperations(max: number): GraphQLError {
  return new GraphQLError(
    `This connection has ${max} operations open (subscriptions included), the most allowed (GRAPHQL_WS_MAX_OPERATIONS): complete one before starting another`,
    { extensions: { code: 'TOO_MANY_OPERATIONS' } },
  );
}

function usesIntrospection(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Field(field) {
      if (field.name.value === '__schema' || field.name.value === '__type') found = true;
    },
  });
  return found;
}

function introspectionDisabled(): GraphQLError {
  return new GraphQLError(
    'Introspection (__schema, __type) is off: it is off by default with NODE_ENV=production; set GRAPHQL_INTROSPECTION=true to allow it',
    { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } },
  );
}
