import type { ApiKeyEntity } from '../api-key.entity';
import type { ApiKey } from './api-key.model';

export function toApiKey(e: ApiKeyEntity): ApiKey {
  return {
    id: String(e.id),
    name: e.name,
    role: e.role,
    prefix: e.prefix,
    createdAt: e.createdAt,
    lastUsedAt: e.lastUsedAt,
    revokedAt: e.revokedAt,
  };
}
