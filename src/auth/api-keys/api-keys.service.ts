import {
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { DataSource, In, IsNull, type Repository } from 'typeorm';
import { BadUserInputError, ConflictError, NotFoundError } from '../../common/errors/app-error';
import { sha256Hex } from '../../common/crypto/sha256';
import { parseId } from '../../common/validation/id';
import { uniqueViolation } from '../../database/database-errors';
import { TransactionsService } from '../../database/transactions.service';
import { entitySnapshot } from '../../audit/audit-changes';
import { CLI_ACTOR_KIND, SYSTEM_ACTOR } from '../../audit/audit-context';
import { DEFAULT_ACTOR } from '../../customers/ledger-actor';
import { ADMIN_TOKEN_ACTOR } from '../admin-token';
import { AuditService, type AuditRecord } from '../../audit/audit.service';
import { Role, type Principal } from '../principal';
import { ApiKeyConnections } from './api-key-connections';
import { ApiKeyEntity } from './api-key.entity';

/** Every key starts with this, so a leaked one is easy to recognise (secret scanners). */
export const API_KEY_PREFIX = 'rgk_';
const PREFIX_LENGTH = API_KEY_PREFIX.length + 8;
/**
 * How often open graphql-ws connections are checked against rg_api_keys, for keys revoked
 * elsewhere (another instance, the CLI). A revoke on this instance closes them at once.
 */
export const REVOCATION_CHECK_MS = 5_000;
/** last_used_at is written at most this often per key. */
export const LAST_USED_RESOLUTION_MS = 60_000;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/**
 * Names that stand for callers other than a key: the admin token, the CLI (its actors are
 * `cli:<user>`), jobs ("system") and the ledger's default ("admin"). A key's name is its
 * actor in the audit trail and the ledger, so a key with one of these names could not be told
 * apart there. Compared without case: MariaDB compares the audit filter's actor so.
 */
export const RESERVED_API_KEY_NAMES: readonly string[] = [
  ADMIN_TOKEN_ACTOR,
  CLI_ACTOR_KIND,
  SYSTEM_ACTOR,
  DEFAULT_ACTOR,
];
const isReserved = (name: string) => RESERVED_API_KEY_NAMES.includes(name.toLowerCase());

export const hashApiKey = (key: string): string => sha256Hex(key);

export interface CreatedApiKey {
  /** The key itself: shown this once, never stored. */
  key: string;
  apiKey: ApiKeyEntity;
}

/** An API key's audit row: never its hash, nor the use it gets (last_used_at). */
function audited(before: ApiKeyEntity | null, after: ApiKeyEntity): AuditRecord {
  const fields = (k: ApiKeyEntity | null) =>
    k && entitySnapshot(k, ['id', 'keyHash', 'createdAt', 'lastUsedAt']);
  return {
    target: { type: 'apiKey', id: after.id, label: after.name },
    before: fields(before),
    after: fields(after),
  };
}

/** API keys: made, listed, revoked, and checked on every request. */
@Injectable()
export class ApiKeysService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('ApiKeys');
  private readonly repo: Repository<ApiKeyEntity>;
  private sweeper: NodeJS.Timeout | null = null;
  /** When each key's last_used_at was last written by this process. */
  private readonly touched = new Map<number, number>();

  constructor(
    @InjectDataSource() dataSource: DataSource,
    private readonly tx: TransactionsService,
    private readonly audit: AuditService,
    @Optional() private readonly connections: ApiKeyConnections = new ApiKeyConnections(),
  ) {
    this.repo = dataSource.getRepository(ApiKeyEntity);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.warnReservedNames().catch((err: Error) =>
      this.log.warn(`cannot look for API keys with reserved names: ${err.message}`),
    );
    this.sweeper = setInterval(() => {
      this.closeRevoked().catch((err: Error) =>
        this.log.warn(`cannot check open connections for revoked keys: ${err.message}`),
      );
    }, REVOCATION_CHECK_MS);
    this.sweeper.unref();
  }

  /**
   * A key made before such names were refused keeps working (with its own rate limit, by id),
   * but the audit trail's `actor` tells it from the admin token, the CLI or jobs only by
   * `actorKind`: say so, once per start.
   */
  async warnReservedNames(): Promise<void> {
    for (const key of await this.repo.findBy({ revokedAt: IsNull() })) {
      if (!isReserved(key.name)) continue;
      this.log.warn(
        `API key ${key.id} is named "${key.name}", a name reserved for another kind of caller: its audit rows differ from that caller's only by actorKind "api-key". Revoke it and make one with another name.`,
      );
    }
  }

  onApplicationShutdown(): void {
    if (this.sweeper) clearInterval(this.sweeper);
  }

  /**
   * Closes the open graphql-ws connections of keys revoked (or removed) since they
   * connected, wherever that happened: on another instance, or through the CLI.
   */
  async closeRevoked(): Promise<number> {
    const open = this.connections.keyIds();
    if (open.length === 0) return 0;
    const active = new Set(
      (
        await this.repo.find({ select: { id: true }, where: { id: In(open), revokedAt: IsNull() } })
      ).map((k) => k.id),
    );
    let closed = 0;
    for (const id of open) if (!active.has(id)) closed += this.connections.closeAll(id);
    return closed;
  }

  async create(name: string, role: Role): Promise<CreatedApiKey> {
    if (!NAME.test(name)) {
      throw new BadUserInputError(
        'name',
        'name: 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit',
      );
    }
    if (isReserved(name)) {
      throw new BadUserInputError(
        'name',
        `name: "${name}" is reserved (${RESERVED_API_KEY_NAMES.join(', ')} name callers other than API keys in the audit trail); choose another`,
        'RESERVED_NAME',
      );
    }
    if (!Object.values(Role).includes(role)) {
      throw new BadUserInputError('role', `role: one of ${Object.values(Role).join(', ')}`);
    }
    const key = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
    try {
      const apiKey = await this.tx.run(async (m) => {
        const saved = await m.getRepository(ApiKeyEntity).save(
          m.create(ApiKeyEntity, {
            name,
            role,
            keyHash: hashApiKey(key),
            prefix: key.slice(0, PREFIX_LENGTH),
            lastUsedAt: null,
            revokedAt: null,
          }),
        );
        await this.audit.record(m, audited(null, saved));
        return saved;
      });
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
  async revoke(id: string | number): Promise<ApiKeyEntity> {
    const found = await this.tx.run(async (m) => {
      const repo = m.getRepository(ApiKeyEntity);
      const key = await repo.findOneBy({ id: parseId('id', id) });
      if (!key) throw new NotFoundError(`No API key with id ${id}`, { field: 'id' });
      const before = { ...key };
      if (key.revokedAt === null) {
        key.revokedAt = new Date();
        await repo.update({ id: key.id, revokedAt: IsNull() }, { revokedAt: key.revokedAt });
      }
      await this.audit.record(m, audited(before, key));
      return key;
    });
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
