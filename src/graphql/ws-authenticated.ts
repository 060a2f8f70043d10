/**
 * The graphql-ws sockets whose connection_init carried a valid token. graphqlWsAuthHooks marks
 * them; WebSocketLimits closes the others after GRAPHQL_WS_AUTH_TIMEOUT_SECONDS and caps how
 * many one address may hold. Weak: a closed socket is forgotten with it.
 */
const authenticated = new WeakSet<object>();

export function markAuthenticated(socket: object): void {
  authenticated.add(socket);
}

export function isAuthenticated(socket: object): boolean {
  return authenticated.has(socket);
}

const unauthenticatedListeners = new Set<(socket: object) => void>();

/**
 * A socket whose connection_init was handled without a valid token (none, a wrong one, or its
 * address over the failed-login budget): WebSocketLimits counts those per address. A socket
 * still in its handshake is not counted, so many dashboards behind one address that connect at
 * once (after a restart, say) are not taken for an attack.
 */
export function markUnauthenticated(socket: object | undefined): void {
  if (socket) for (const listener of unauthenticatedListeners) listener(socket);
}

/** Calls `listener` for each socket markUnauthenticated names; returns the way to stop. */
export function onUnauthenticated(listener: (socket: object) => void): () => void {
  unauthenticatedListeners.add(listener);
  return () => unauthenticatedListeners.delete(listener);
}
