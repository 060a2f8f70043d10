import { Injectable, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash, randomBytes } from 'node:crypto';
import { DataSource, IsNull, type Repository } from 'typeorm';
import { BadUserInputError, ConflictError, NotFoundError } from '../../common/errors/app-error';
import { uniqueViolation } from '../../database/database-errors';
import { Role, type Principal } from '../principal';
import { ApiKeyConnections } from './api-key-connections';
import { ApiKeyEntity } from './api-key.entity';

/** Every key starts with this, so a leaked one is easy to recognise (secret scanners). */
export const API_KEY_PREFIX = 'rgk_';
const PREFIX_LENGTH = API_KEY_PREFIX.length + 8;
/** last_used_at is written at most this often per key. */
export const LAST_USED_RESOLUTION_MS = 60_000;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const hashApiKey = (key: string): string => createHash('sha256').update(key).digest('hex');

export interface CreatedApiKey {
  /** The key itself: shown this once, never stored. */
  key: string;
  apiKey: ApiKeyEntity;
}

/** API keys: made, listed, revoked, and checked on every request. */
@Injectable()
export class ApiKeysService {
  private readonly repo: Repository<ApiKeyEntity>;
  /** When each key's last_used_at was last written by this process. */
  private readonly touched = new Map<number, number>();

  constructor(
    @InjectDataSource() dataSource: DataSource,
    @Optional() private readonly connections: ApiKeyConnections = new ApiKeyConnections(),
  ) {
    this.repo = dataSource.getRepository(ApiKeyEntity);
  }

  async create(name: string, role: Role): Promise<CreatedApiKey> {
    if (!NAME.test(name)) {
      throw new BadUserInputError(
        'name',
        'name: 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit',
      );
    }
    if (!Object.values(Role).includes(role)) {
      throw new BadUserInputError('role', `role: one of ${Object.values(Role).join(', ')}`);
    }
    const key = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
    try {
      const apiKey = await this.repo.save(
        this.repo.create({
          name,
          role,
          keyHash: hashApiKey(key),
          prefix: key.slice(0, PREFIX_LENGTH),
          lastUsedAt: null,
          revokedAt: null,
        }),
      );
      return { key, apiKey };
    } catch (err) {
      if (uniqueViolation(err) !== null) {
        throw new ConflictError(`An API key named "${name}" already exists`, {
          field: 'name',
          reason: 'API_KEY_NAME_TAKEN',
        });
      }
      throw err;
    }
  }

  /** Every key, revoked ones included, oldest first. */
  list(): Promise<ApiKeyEntity[]> {
    return this.repo.find({ order: { id: 'ASC' } });
  }

  findByName(name: string): Promise<ApiKeyEntity | null> {
    return this.repo.findOneBy({ name });
  }

  /**
   * Revokes the key: the next request with it fails UNAUTHENTICATED and its open graphql-ws
   * connections on this instance are closed now. Revoking a revoked key changes nothing.
   */
  async revoke(id: number): Promise<ApiKeyEntity> {
    const found = Number.isSafeInteger(id) ? await this.repo.findOneBy({ id }) : null;
    if (!found) throw new NotFoundError(`No API key with id ${id}`);
    if (found.revokedAt === null) {
      found.revokedAt = new Date();
      await this.repo.update({ id: found.id, revokedAt: IsNull() }, { revokedAt: found.revokedAt });
    }
    this.connections.closeAll(found.id);
    return found;
  }

  /** The caller a key stands for, or null for an unknown or revoked key. */
  async authenticate(key: string): Promise<Principal | null> {
    if (!key.startsWith(API_KEY_PREFIX)) return null;
    const found = await this.repo.findOneBy({ keyHash: hashApiKey(key), revokedAt: IsNull() });
    if (!found) return null;
    await this.touch(found);
    return { kind: 'api-key', keyId: found.id, name: found.name, role: found.role };
  }

  /** True while the key exists and is not revoked. */
  async isActive(id: number): Promise<boolean> {
    return (await this.repo.countBy({ id, revokedAt: IsNull() })) > 0;
  }

  private async touch(key: ApiKeyEntity): Promise<void> {
    const now = Date.now();
    const last = Math.max(this.touched.get(key.id) ?? 0, key.lastUsedAt?.getTime() ?? 0);
    if (now - last < LAST_USED_RESOLUTION_MS) return;
    this.touched.set(key.id, now);
    await this.repo.update({ id: key.id }, { lastUsedAt: new Date(now) });
  }
}
