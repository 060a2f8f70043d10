/** Injection token of the validated AppConfig: `@Inject(APP_CONFIG) config: AppConfig`. */
export const APP_CONFIG = Symbol('APP_CONFIG');

/**
 * Injection token of TRUST_PROXY compiled once (a TrustFunction, compileTrustProxy): which
 * proxies may name the client, for Express, the request and WebSocket limits and the request
 * log alike. `@Inject(TRUST_PROXY) trust: TrustFunction`.
 */
export const TRUST_PROXY = Symbol('TRUST_PROXY');
