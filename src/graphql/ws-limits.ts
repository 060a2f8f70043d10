import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import type { WebSocketServer } from 'ws';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.tokens';

/** What @nestjs/apollo's driver keeps of its WebSocket servers (not a public API). */
interface DriverInternals {
  _subscriptionService?: { wss?: WebSocketServer; subTransWs?: WebSocketServer };
}

/**
 * The largest message a GraphQL WebSocket client may send: GRAPHQL_MAX_BODY_BYTES, as for an
 * HTTP body. Nest builds its WebSocket servers with the `ws` default, 100 MiB a message, and
 * without a way to set it, and a connection_init is read before any authentication: a few
 * anonymous sockets could make the server allocate gigabytes. `ws` reads the limit from its
 * server's options at each upgrade and closes a socket whose message passes it (1009), from
 * the frame header, before buffering the payload.
 */
@Injectable()
export class WebSocketLimits implements OnApplicationBootstrap {
  constructor(
    private readonly moduleRef: ModuleRef,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const graphql = this.moduleRef.get(GraphQLModule, { strict: false });
    const service = (graphql.graphQlAdapter as unknown as DriverInternals)._subscriptionService;
    if (!service?.wss) {
      // A newer @nestjs/apollo keeps it elsewhere: refuse to start unprotected.
      throw new Error(
        'cannot find the GraphQL WebSocket server to limit its message size (GRAPHQL_MAX_BODY_BYTES); @nestjs/apollo changed: update src/graphql/ws-limits.ts',
      );
    }
    for (const server of [service.wss, service.subTransWs]) {
      if (server) server.options.maxPayload = this.config.graphql.maxBodyBytes;
    }
  }
}
