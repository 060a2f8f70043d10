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
