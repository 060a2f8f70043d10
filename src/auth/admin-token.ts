import { randomBytes } from 'node:crypto';
import { storedSecret } from '../common/crypto/stored-secret';
import type { AppConfig } from '../config/app-config';

export interface AdminToken {
  token: string;
  /** env: ADMIN_TOKEN; generated: made now and kept in `file`; stored: read from `file`. */
  source: 'env' | 'generated' | 'stored';
  file?: string;
}

export const ADMIN_TOKEN_FILE = 'admin-token';
/** The admin token's name as a caller: in the audit trail (actor) and the ledger. */
export const ADMIN_TOKEN_ACTOR = 'admin-token';

/**
 * The bootstrap admin token: ADMIN_TOKEN when set. Otherwise (never in production: config
 * validation refuses that) one generated on first start and kept, readable only by its
 * owner, in DATA_DIR/admin-token, so that a new user can call the API at once and the token
 * survives restarts.
 */
export function resolveAdminToken(config: AppConfig): AdminToken {
  if (config.adminToken !== undefined) return { token: config.adminToken, source: 'env' };
  if (config.nodeEnv === 'production') {
    throw new Error('ADMIN_TOKEN is required when NODE_ENV=production');
  }
  const stored = storedSecret(
    config.dataDir,
    ADMIN_TOKEN_FILE,
    () => `rg_${randomBytes(24).toString('base64url')}`,
    (token) => token.length >= 16,
  );
  return { token: stored.value, source: stored.source, file: stored.file };
}
