import { Inject, Injectable } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.tokens';
import { resolveAdminToken, type AdminToken } from './admin-token';
import { Role, type Principal } from './principal';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Turns an Authorization header into a Principal. The one door into the API. */
@Injectable()
export class AuthService {
  readonly adminToken: AdminToken;
  private readonly adminDigest: Buffer;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.adminToken = resolveAdminToken(config);
    this.adminDigest = digest(this.adminToken.token);
  }

  /** `Bearer <token>` (scheme case-insensitive) → the caller, or null for anything else. */
  authenticate(authorization: unknown): Promise<Principal | null> {
    const token = parseBearer(authorization);
    if (token === null) return Promise.resolve(null);
    // Compare digests in constant time: no timing hint about how much of a token matched.
    if (timingSafeEqual(digest(token), this.adminDigest)) {
      return Promise.resolve({ kind: 'admin-token', name: 'admin-token', role: Role.ADMIN });
    }
    return Promise.resolve(null);
  }
}

export function parseBearer(authorization: unknown): string | null {
  if (typeof authorization !== 'string') return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return match ? match[1] : null;
}
