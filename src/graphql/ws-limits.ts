import type { IncomingMessage } from 'node:http';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import type { WebSocket, WebSocketServer } from 'ws';
import { clientAddress, type TrustFunction } from '../common/http/client-address';
import { keptOut, LogThrottle } from '../common/logging/log-throttle';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG, TRUST_PROXY } from '../config/config.tokens';
import { isAuthenticated, onUnauthenticated } from './ws-authenticated';

/** What @nestjs/apollo's driver keeps of its WebSocket servers (not a public API). */
interface DriverInternals {
  _subscriptionService?: { wss?: WebSocketServer; subTransWs?: WebSocketServer };
}

/** graphql-ws's close codes: 4401 Unauthorized (its client does not retry), 4403 Forbidden. */
export const WS_UNAUTHENTICATED_CLOSE_CODE = 4401;
export const WS_TOO_MANY_UNAUTHENTICATED_CLOSE_CODE = 4403;

/**
 * The largest message a GraphQL WebSocket client may send: GRAPHQL_MAX_BODY_BYTES, as for an
 * HTTP body. Nest builds its WebSocket servers with the `ws` default, 100 MiB a message, and
 * without a way to set it, and a connection_init is read before any authentication: a few
 * anonymous sockets could make the server allocate gigabytes. `ws` reads the limit from its
 * server's options at each upgrade and closes a socket whose message passes it (1009), from
 * the frame header, before buffering the payload.
 *
 * `ws` then emits the error on the socket, where graphql-ws writes it to console.error as an
 * "Internal error ... Please check your implementation", with its stack: a line outside the
 * JSON log for every such message, that anyone could send. A client's protocol error (ws's
 * `WS_ERR_*`: too big, a bad frame, bad UTF-8), whose socket `ws` has already closed with the
 * right code, is logged here at warn instead, at most one line every 10 s.
 *
 * A socket is accepted before its token is checked, and one without a valid token stays open
 * (its operations get UNAUTHENTICATED): an anonymous client could hold any number of them for
 * ever. So a socket not authenticated (graphqlWsAuthHooks marks those that are) is closed
 * GRAPHQL_WS_AUTH_TIMEOUT_SECONDS after it opened, with 4401 Unauthorized, and one address may
 * hold at most GRAPHQL_WS_MAX_UNAUTHENTICATED_PER_IP sockets whose connection_init had no valid
 * token (the client's address, under TRUST_PROXY): one more closes its oldest with 4403
 * Forbidden (graphql-ws's client retries that later). A socket still in its handshake is not counted (a thousand dashboards behind one
 * address may connect at once), and an authenticated one is neither closed nor counted.
 */
@Injectable()
export class WebSocketLimits implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('GraphQLWebSocket');
  /** One line at most every 10 s for clients' protocol errors, with how many more since. */
  private readonly protocolErrors = new LogThrottle();
  /** Per address, its open sockets whose connection_init had no valid token. */
  private readonly unauthenticated = new Map<string, Set<WebSocket>>();
  /** The address each socket of this app's servers came from. */
  private readonly addresses = new WeakMap<object, string>();
  private stopCounting: () => void = () => undefined;

  constructor(
    private readonly moduleRef: ModuleRef,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(TRUST_PROXY) private readonly trust: TrustFunction,
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
    // The client's address, not a proxy's (TRUST_PROXY): behind a load balancer, the cap
    // would otherwise be shared by every client.
    for (const server of [service.wss, service.subTransWs]) {
      if (!server) continue;
      server.options.maxPayload = this.config.graphql.maxBodyBytes;
      server.on('connection', (socket: WebSocket, request: IncomingMessage) => {
        const from = clientAddress(request, this.trust) ?? 'unknown';
        this.addresses.set(socket, from);
        this.quietProtocolErrors(socket, from);
        this.closeUnlessAuthenticated(socket);
      });
    }
    this.stopCounting = onUnauthenticated((socket) => this.countUnauthenticated(socket));
  }

  onApplicationShutdown(): void {
    this.stopCounting();
  }

  /** Closes `socket` unless it authenticates within GRAPHQL_WS_AUTH_TIMEOUT_SECONDS. */
  private closeUnlessAuthenticated(socket: WebSocket): void {
    const timer = setTimeout(() => {
      if (isAuthenticated(socket) || socket.readyState !== socket.OPEN) return;
      socket.close(WS_UNAUTHENTICATED_CLOSE_CODE, 'Unauthorized');
    }, this.config.graphql.wsAuthTimeoutSeconds * 1000);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  }

  /**
   * A socket of this server whose connection_init had no valid token (markUnauthenticated).
   * When its address already holds the most such sockets, its oldest is closed: new
   * connections, a valid client's among them, always get their chance to authenticate.
   */
  private countUnauthenticated(target: object): void {
    const socket = target as WebSocket;
    const from = this.addresses.get(socket);
    if (from === undefined || socket.readyState !== socket.OPEN) return; // another app's
    const open = this.unauthenticated.get(from) ?? new Set<WebSocket>();
    // Only sockets whose connection_init failed are here: none authenticates later.
    for (const other of open) if (other.readyState >= other.CLOSING) open.delete(other);
    for (const oldest of open) {
      if (open.size < this.config.graphql.wsMaxUnauthenticatedPerAddress) break;
      open.delete(oldest);
      oldest.close(
        WS_TOO_MANY_UNAUTHENTICATED_CLOSE_CODE,
        'Too many unauthenticated connections from this address',
      );
    }
    open.add(socket);
    this.unauthenticated.set(from, open);
    socket.once('close', () => {
      open.delete(socket);
      if (open.size === 0 && this.unauthenticated.get(from) === open) {
        this.unauthenticated.delete(from);
      }
    });
  }

  /** A client's protocol error goes to the log (rate-limited), not on to graphql-ws. */
  private quietProtocolErrors(socket: WebSocket, from: string): void {
    const emit = socket.emit.bind(socket) as (
      event: string | symbol,
      ...args: unknown[]
    ) => boolean;
    socket.emit = ((event: string | symbol, ...args: unknown[]) => {
      const err = args[0] as { code?: unknown; message?: unknown } | undefined;
      if (event !== 'error' || typeof err?.code !== 'string' || !err.code.startsWith('WS_ERR_')) {
        return emit(event, ...args);
      }
      this.logProtocolError(from, `${err.code}: ${String(err.message)}`);
      return true;
    }) as WebSocket['emit'];
  }

  private logProtocolError(from: string, detail: string): void {
    const skipped = this.protocolErrors.admit();
    if (skipped === undefined) return;
    this.log.warn(`closed a WebSocket from ${from}: ${detail}${keptOut(skipped)}`);
  }
}
