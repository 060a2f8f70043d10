// graphql-ws for the live feed: one connection per signed-in key, opened at once so the header
// can show its state, reconnecting by itself with capped exponential backoff.
import { createClient, type Client } from 'graphql-ws';
import { ApiError, graphQLErrors, type GraphQLErrorShape } from './api';

/** connecting: the first connection; disconnected: lost and retrying; connected: live. */
export type LiveState = 'connecting' | 'connected' | 'disconnected';

export interface LiveHandlers<T> {
  next: (data: T) => void;
  /** The subscription failed and was started again: events may have been missed. */
  restarted?: () => void;
  /**
   * The subscription ended with these errors (not UNAUTHENTICATED). Return true to leave it
   * ended (the caller deals with it, e.g. a filter that names what no longer exists); else it
   * starts again after a pause.
   */
  ended?: (errors: ApiError[]) => boolean;
}

const PING_INTERVAL_MS = 10_000;
/**
 * graphql-ws's Unauthorized and Forbidden: radgraph closes a revoked key's sockets with 4403,
 * and a socket without a valid token with 4401 (GRAPHQL_WS_AUTH_TIMEOUT_SECONDS after it
 * opened: the reconnection after a revocation is accepted, then closed).
 */
const AUTH_CLOSE_CODES = new Set([4401, 4403]);
const PONG_TIMEOUT_MS = 5_000;
const RESUBSCRIBE_DELAY_MS = 2_000;

function wsUrl(): string {
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${window.location.host}/graphql`;
}

export class LiveFeed {
  private readonly client: Client;
  private state: LiveState = 'connecting';
  private readonly stateListeners = new Set<(state: LiveState) => void>();
  private pongTimer: number | undefined;
  private disposed = false;

  /**
   * @param checkKey called when the server closes the socket for its key (4401, 4403): a page
   *   with no subscription open gets no UNAUTHENTICATED error, so the key is checked over HTTP
   *   (which signs out when it is refused). 4403 also closes a client address's oldest socket
   *   without a token, and 4401 one that connected while the database was down: not a refusal.
   */
  constructor(
    apiKey: string,
    private readonly onUnauthenticated: (message: string) => void,
    checkKey: () => void = () => undefined,
  ) {
    let socket: WebSocket | null = null;
    this.client = createClient({
      url: wsUrl(),
      connectionParams: { authorization: `Bearer ${apiKey}` },
      lazy: false,
      retryAttempts: Infinity,
      shouldRetry: () => true,
      retryWait: (retries) =>
        new Promise((resolve) =>
          setTimeout(resolve, Math.min(1000 * 2 ** retries, 15_000) + Math.random() * 1000),
        ),
      keepAlive: PING_INTERVAL_MS,
      onNonLazyError: () => undefined, // never fatal here: shouldRetry always retries
      on: {
        connecting: () => {
          // A retry after a drop stays "disconnected" until it succeeds.
          if (this.state !== 'disconnected') this.setState('connecting');
        },
        connected: (s) => {
          socket = s as WebSocket;
          this.setState('connected');
        },
        closed: (event) => {
          socket = null;
          window.clearTimeout(this.pongTimer);
          if (this.disposed) return;
          this.setState('disconnected');
          if (AUTH_CLOSE_CODES.has((event as CloseEvent | undefined)?.code ?? 0)) checkKey();
        },
        // A socket that stops answering pings is dead even if the browser has not noticed.
        ping: (received) => {
          if (received) return;
          window.clearTimeout(this.pongTimer);
          this.pongTimer = window.setTimeout(() => {
            if (socket?.readyState === WebSocket.OPEN) socket.close(4408, 'Ping timeout');
          }, PONG_TIMEOUT_MS);
        },
        pong: (received) => {
          if (received) window.clearTimeout(this.pongTimer);
        },
      },
    });
  }

  get current(): LiveState {
    return this.state;
  }

  onState(cb: (state: LiveState) => void): () => void {
    this.stateListeners.add(cb);
    return () => this.stateListeners.delete(cb);
  }

  /**
   * Subscribes until the returned function is called. An error other than UNAUTHENTICATED
   * (e.g. SLOW_CONSUMER) starts the subscription again after a pause, unless handlers.ended
   * keeps it ended.
   */
  subscribe<T>(query: string, variables: Record<string, unknown>, handlers: LiveHandlers<T>) {
    let stopped = false;
    let unsubscribe: () => void = () => undefined;
    let retryTimer: number | undefined;
    const start = (isRestart: boolean) => {
      if (stopped || this.disposed) return;
      unsubscribe = this.client.subscribe<T>(
        { query, variables },
        {
          next: (result) => {
            const errors = graphQLErrors(result.errors);
            if (errors.length > 0) return failed(errors);
            if (result.data) handlers.next(result.data);
          },
          error: (err) => failed(graphQLErrors(err)),
          complete: () => restart(), // the server ended it: start again
        },
      );
      if (isRestart) handlers.restarted?.();
    };
    const restart = () => {
      if (stopped) return;
      unsubscribe();
      window.clearTimeout(retryTimer);
      retryTimer = window.setTimeout(() => start(true), RESUBSCRIBE_DELAY_MS);
    };
    const failed = (errors: GraphQLErrorShape[]) => {
      if (stopped) return;
      const apiErrors = errors.map((e) => ApiError.fromGraphQL(e));
      const unauthenticated = apiErrors.find((e) => e.code === 'UNAUTHENTICATED');
      if (unauthenticated) this.onUnauthenticated(unauthenticated.message);
      else if (handlers.ended?.(apiErrors)) {
        stopped = true; // the complete that may follow does not start it again
        unsubscribe();
      } else restart();
    };
    start(false);
    return () => {
      stopped = true;
      window.clearTimeout(retryTimer);
      unsubscribe();
    };
  }

  dispose(): void {
    this.disposed = true;
    window.clearTimeout(this.pongTimer);
    this.stateListeners.clear();
    void this.client.dispose();
  }

  private setState(state: LiveState): void {
    if (state === this.state) return;
    this.state = state;
    this.stateListeners.forEach((cb) => cb(state));
  }
}
