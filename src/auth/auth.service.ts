import { Inject, Injectable, Optional } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.tokens';
import { ADMIN_TOKEN_ACTOR, resolveAdminToken, type AdminToken } from './admin-token';
import { ApiKeyConnections } from './api-keys/api-key-connections';
import { ApiKeysService } from './api-keys/api-keys.service';
import { Role, type Principal } from './principal';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Whether a token someone sent is `expected`, compared in constant time (no timing hint). */
export function sameToken(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** Turns an Authorization header into a Principal. The one door into the API. */
@Injectable()
export class AuthService {
  readonly adminToken: AdminToken;
  private readonly adminDigest: Buffer;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Optional() private readonly apiKeys?: ApiKeysService,
    /** The open graphql-ws connections of each API key (closed when it is revoked). */
    @Optional() readonly connections: ApiKeyConnections = new ApiKeyConnections(),
  ) {
    this.adminToken = resolveAdminToken(config);
    this.adminDigest = digest(this.adminToken.token);
  }

  /** `Bearer <token>` (scheme case-insensitive) → the caller, or null for anything else. */
  async authenticate(authorization: unknown): Promise<Principal | null> {
    const token = parseBearer(authorization);
    if (token === null) return null;
    // Compare digests in constant time: no timing hint about how much of a token matched.
    if (timingSafeEqual(digest(token), this.adminDigest)) {
      return { kind: 'admin-token', name: ADMIN_TOKEN_ACTOR, role: Role.ADMIN };
    }
    return this.apiKeys ? this.apiKeys.authenticate(token) : null;
  }

  /**
   * Whether a caller authenticated earlier (at graphql-ws connection_init) still may call:
   * false once its API key is revoked, on any instance.
   */
  async stillValid(principal: Principal): Promise<boolean> {
    if (principal.kind !== 'api-key') return true;
    return this.apiKeys ? this.apiKeys.isActive(principal.keyId) : false;
  }
}

export function parseBearer(authorization: unknown): string | null {
  if (typeof authorization !== 'string') return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return match ? match[1] : null;
}
