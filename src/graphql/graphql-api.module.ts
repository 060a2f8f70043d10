import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Module } from '@nestjs/common';
import { GraphQLModule, type GraphQLWsSubscriptionsConfig } from '@nestjs/graphql';
import type { GraphQLSchema } from 'graphql';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { AuthModule } from '../auth/auth.module';
import { AuthService } from '../auth/auth.service';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG, TRUST_PROXY } from '../config/config.tokens';
import { graphqlErrorFormatter } from '../common/errors/graphql-errors';
import { GraphQLDateTime } from '../common/scalars/date-time.scalar';
import type { TrustFunction } from '../common/http/client-address';
import { queryLimitsRule } from './query-limits';
import { RequestLimits } from './request-limits';
import { graphqlContextFactory, graphqlWsAuthHooks, graphqlWsErrorHooks } from './graphql-context';
import { subscribeSharingPayloads } from './shared-subscribe';
import { countWsOperations, operationMetricsPlugin } from './operation-metrics';
import { Metrics } from '../metrics/metrics.service';
import { WebSocketLimits } from './ws-limits';

export const GRAPHQL_PATH = '/graphql';

/**
 * GraphQL over HTTP (Apollo Server) and over graphql-ws, both on /graphql. Code-first: the
 * schema comes from the resolvers; `npm run schema:write` prints it, sorted, to schema.gql.
 */
@Module({
  imports: [
    GraphQLModule.forRootAsync<ApolloDriverConfig>({
      driver: ApolloDriver,
      imports: [AuthModule],
      inject: [AuthService, APP_CONFIG, Metrics, TRUST_PROXY],
      useFactory: (
        auth: AuthService,
        config: AppConfig,
        metrics: Metrics,
        trust: TrustFunction,
      ): ApolloDriverConfig => {
        const limits = new RequestLimits(config.graphql, trust);
        // With introspection off, errors do not suggest names of the schema either.
        const formatError = graphqlErrorFormatter({
          hideSchemaDetails: !config.graphql.introspection,
        });
        // The served schema, for the complexity limit on graphql-ws: Apollo starts (and so
        // has it) before Nest opens the WebSocket server.
        let schema: GraphQLSchema | undefined;
        const servedSchema = () => {
          if (!schema) throw new Error('the GraphQL schema is not loaded yet');
          return schema;
        };
        const wsAuth = graphqlWsAuthHooks(auth, servedSchema);
        return {
          path: GRAPHQL_PATH,
          autoSchemaFile: true,
          sortSchema: true,
          // DateTime: the contract's ISO-8601 with offset, checked on input (date-time.scalar.ts).
          buildSchemaOptions: { scalarsMap: [{ type: Date, scalar: GraphQLDateTime }] },
          playground: false,
          introspection: config.graphql.introspection,
          allowBatchedHttpRequests: config.graphql.maxBatchSize > 1,
          plugins: [
            config.graphql.introspection
              ? ApolloServerPluginLandingPageLocalDefault({ embed: true })
              : ApolloServerPluginLandingPageDisabled(),
            limits.plugin,
            operationMetricsPlugin(metrics),
            // Apollo's cache-control plugin hooks every field of every response (to compute a
            // Cache-Control header from @cacheControl hints), and its hook makes Apollo wrap every
            // resolver. radgraph gives no hints: every answer is per caller and live, never
            // cacheable. Off, a 50-session page costs about a fifth less to execute.
            ApolloServerPluginCacheControlDisabled(),
            {
              serverWillStart: ({ schema: served }) => {
                schema = served;
                return Promise.resolve();
              },
            },
          ],
          includeStacktraceInErrorResponses: false,
          validationRules: [queryLimitsRule],
          formatError,
          context: limits.context(graphqlContextFactory(auth)),
          subscriptions: {
            // onError is passed through to graphql-ws though Nest's type does not list it.
            'graphql-ws': {
              path: GRAPHQL_PATH,
              // One payload per distinct operation and event, not per subscriber.
              subscribe: subscribeSharingPayloads,
              ...wsAuth,
              onConnect: limits.wsOnConnect(wsAuth.onConnect),
              onSubscribe: countWsOperations(
                metrics,
                servedSchema,
                limits.wsOnSubscribe(wsAuth.onSubscribe),
              ),
              ...graphqlWsErrorHooks(formatError),
            } as GraphQLWsSubscriptionsConfig,
          },
        };
      },
    }),
  ],
  providers: [WebSocketLimits],
})
export class GraphqlApiModule {}
