import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { AppConfig } from '../config/app-config';

export interface AdminToken {
  token: string;
  /** env: ADMIN_TOKEN; generated: made now and kept in `file`; stored: read from `file`. */
  source: 'env' | 'generated' | 'stored';
  file?: string;
}

export const ADMIN_TOKEN_FILE = 'admin-token';

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
  const file = path.join(config.dataDir, ADMIN_TOKEN_FILE);
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    if (token.length >= 16) return { token, source: 'stored', file };
  }
  // Owner-only: DATA_DIR holds the token and the embedded database (customer passwords).
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const token = `rg_${randomBytes(24).toString('base64url')}`;
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { token, source: 'generated', file };
}
