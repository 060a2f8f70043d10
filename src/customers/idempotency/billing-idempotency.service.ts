import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { noteReadOnly } from '../../audit/audit-context';
import { Clock } from '../../common/clock/clock';
import { sha256Hex } from '../../common/crypto/sha256';
import { BadUserInputError, ConflictError, NotFoundError } from '../../common/errors/app-error';
import { sqlDatetime } from '../../common/sql/datetime';
import { parseId } from '../../common/validation/id';
import { uniqueViolation } from '../../database/database-errors';
import { TransactionsService } from '../../database/transactions.service';
import { CustomerEntity } from '../customer.entity';
import type { BillingCaller } from '../ledger-actor';
import { LedgerEntryEntity } from '../ledger-entry.entity';
import { IdempotencyKeyEntity } from './idempotency-key.entity';

/** How long a key answers a retry: 24 hours from its request, by radgraph's clock. */
export const IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000;
export const MAX_IDEMPOTENCY_KEY_LENGTH = 128;
/** Keys older than the retention are deleted at most this often (on a keyed write). */
const PRUNE_EVERY_MS = 60_000;
/** 1-128 printable ASCII characters (space to tilde): a UUID, an invoice or payment id. */
const KEY = new RegExp(`^[\\x20-\\x7e]{1,${MAX_IDEMPOTENCY_KEY_LENGTH}}$`);

/** The idempotencyKey argument's description in the schema. */
export const IDEMPOTENCY_KEY_DESCRIPTION =
  'Makes a retry safe: 1-128 printable ASCII characters, unique per request of your API key (a UUID, or the payment id of your billing system); keys are per API key, so another key (or the admin token) using the same one is another request. The same key again from the same API key within 24 hours, for the same customer and arguments, answers without writing anything more; with other arguments (another customer, operation, amount, note or force) it is CONFLICT, reason IDEMPOTENCY_KEY_REUSED. A request that failed recorded nothing: sent again, it runs again.';

export type BillingOperation = 'creditCustomer' | 'renewCustomer';

/** A billing request under an idempotencyKey, ready to be recorded (BillingIdempotency.claim). */
export interface IdempotencyClaim {
  /** The hash of the caller's scope and the key: a key is the caller's own. */
  keyHash: string;
  operation: BillingOperation;
  customerId: number;
  requestHash: string;
  /** Where a key recorded before keys were per caller is found (legacyRow). */
  legacyKeyHash: string;
  /** The caller's ledger actor: whose a legacy row is. */
  actor: string;
}

/**
 * The idempotencyKey of creditCustomer and renewCustomer. A billing system (or the console)
 * that sends a request again after a timeout, when the first one committed and only its answer
 * was lost, must not pay or renew twice. A key is its caller's own (BillingCaller's
 * idempotencyScope: one API key, or the admin token), as Stripe's are its account's: two billing
 * systems that both number their payments 1001, 1002... never answer or refuse each other's.
 * For one caller:
 * - the same key for the same customer, operation and arguments within
 *   IDEMPOTENCY_RETENTION_MS answers with the customer as it is now and writes nothing (no
 *   ledger row, no audit row);
 * - the same key with anything else (another customer, operation, amount, note, force) is
 *   CONFLICT, reason IDEMPOTENCY_KEY_REUSED, field idempotencyKey;
 * - a request that failed recorded nothing: sent again, it runs again.
 * The key's row (rg_idempotency_keys) is written in the transaction of the ledger row, and its
 * hash (of the caller's scope and the key) is unique: of two identical requests of a caller at
 * once, the second's insert fails (on MySQL after waiting for the first's commit), its
 * transaction is rolled back, and it answers from the first's row.
 */
@Injectable()
export class BillingIdempotency {
  private readonly log = new Logger('BillingIdempotency');
  private lastPrune = 0;

  constructor(
    private readonly tx: TransactionsService,
    private readonly clock: Clock,
  ) {}

  /**
   * The request's claim, or null without a key. A key that is not 1-128 printable ASCII
   * characters is BAD_USER_INPUT naming idempotencyKey. `args` are the request's arguments as
   * they take effect (an amount in minor units, a trimmed note), so a retry that writes the
   * same thing differently still matches.
   */
  claim(
    key: string | null | undefined,
    caller: BillingCaller,
    operation: BillingOperation,
    customerId: string,
    args: Record<string, string | boolean | null>,
  ): IdempotencyClaim | null {
    if (key === null || key === undefined) return null;
    if (!KEY.test(key)) {
      throw new BadUserInputError(
        'idempotencyKey',
        `idempotencyKey must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters (a UUID, say)`,
        'IDEMPOTENCY_KEY_INVALID',
      );
    }
    // A malformed id is refused before any key is looked at, as without a key (INVALID_ID); a
    // well-formed id that is no customer's fails with NOT_FOUND and records nothing.
    const customer = parseId('id', customerId);
    return {
      // A key is printable ASCII and a scope has no line break: no two pairs hash alike.
      keyHash: sha256Hex(`${caller.idempotencyScope}\n${key}`),
      operation,
      customerId: customer,
      requestHash: sha256Hex(JSON.stringify([operation, customer, Object.entries(args).sort()])),
      legacyKeyHash: sha256Hex(key),
      actor: caller.actor,
    };
  }

  /**
   * Runs `attempt` (which writes the request and, in its transaction, record()) once for the
   * claim: or answers from the key's row when the request was done already.
   */
  async run(
    claim: IdempotencyClaim | null,
    attempt: () => Promise<CustomerEntity>,
  ): Promise<CustomerEntity> {
    if (claim === null) return attempt();
    for (let tries = 1; ; tries++) {
      const done = await this.answer(claim);
      if (done) return done;
      try {
        const customer = await attempt();
        await this.pruneIfDue();
        return customer;
      } catch (err) {
        // Another request with this key committed first: answered from its row, once more.
        if (tries > 1 || !isKeyViolation(err)) throw err;
      }
    }
  }

  /**
   * Records the claim in the request's transaction, once the customer is locked and before
   * anything is written or refused: a second request with the key waits here (MySQL) for the
   * first's commit and fails on the unique key_hash, to be answered from the first's row, rather
   * than being refused for what the first changed (a balance a renewal emptied).
   */
  async record(m: EntityManager, claim: IdempotencyClaim | null): Promise<void> {
    if (claim === null) return;
    const { keyHash, operation, customerId, requestHash } = claim;
    await m.getRepository(IdempotencyKeyEntity).insert({
      keyHash,
      operation,
      customerId,
      requestHash,
      ledgerEntryId: null,
      createdAt: this.clock.now(),
    });
  }

  /** The ledger row the claimed request wrote, in the same transaction. */
  async wrote(
    m: EntityManager,
    claim: IdempotencyClaim | null,
    ledgerEntryId: number | null,
  ): Promise<void> {
    if (claim === null || ledgerEntryId === null) return;
    await m
      .getRepository(IdempotencyKeyEntity)
      .update({ keyHash: claim.keyHash }, { ledgerEntryId });
  }

  /** Deletes the keys older than the retention; how many. */
  async prune(): Promise<number> {
    const cutoff = new Date(this.clock.now().getTime() - IDEMPOTENCY_RETENTION_MS);
    const result = await this.tx.alone((m) =>
      m
        .createQueryBuilder()
        .delete()
        .from(IdempotencyKeyEntity)
        .where('created_at < :cutoff', { cutoff: sqlDatetime(cutoff) })
        .execute(),
    );
    return result.affected ?? 0;
  }

  private async pruneIfDue(): Promise<void> {
    const now = this.clock.now().getTime();
    if (Math.abs(now - this.lastPrune) < PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    try {
      const pruned = await this.prune();
      if (pruned > 0) this.log.log(`pruned ${pruned} idempotency key(s) older than 24 h`);
    } catch (err) {
      this.log.warn(`cannot prune old idempotency keys: ${(err as Error).message}`);
    }
  }

  /**
   * The answer to a request whose key was used within the retention: the customer now when it
   * is the same request, CONFLICT when not; null when the key is new (or expired: its row is
   * deleted, and the key is new again).
   */
  private async answer(claim: IdempotencyClaim): Promise<CustomerEntity | null> {
    const row = (await this.row(claim.keyHash)) ?? (await this.legacyRow(claim));
    if (!row) return null;
    if (row.createdAt.getTime() <= this.clock.now().getTime() - IDEMPOTENCY_RETENTION_MS) {
      await this.tx.alone((m) => m.getRepository(IdempotencyKeyEntity).delete({ id: row.id }));
      return null;
    }
    if (
      row.operation !== claim.operation ||
      row.customerId !== claim.customerId ||
      row.requestHash !== claim.requestHash
    ) {
      const what =
        row.operation === claim.operation && row.customerId === claim.customerId
          ? 'with other arguments'
          : `for ${row.operation} of customer ${row.customerId}`;
      throw new ConflictError(
        `This idempotencyKey was used at ${row.createdAt.toISOString()} ${what}: a new request needs a new key`,
        { field: 'idempotencyKey', reason: 'IDEMPOTENCY_KEY_REUSED' },
      );
    }
    const customer = await this.tx.alone((m) =>
      m.getRepository(CustomerEntity).findOne({ where: { id: row.customerId } }),
    );
    // The row goes with its customer (ON DELETE CASCADE): only a delete in between.
    if (!customer) {
      throw new NotFoundError(`No customer with id ${row.customerId}`, { field: 'id' });
    }
    noteReadOnly(); // the answer changes nothing: the first request wrote its audit row
    return customer;
  }

  private row(keyHash: string): Promise<IdempotencyKeyEntity | null> {
    return this.tx.alone((m) =>
      m.getRepository(IdempotencyKeyEntity).findOne({ where: { keyHash } }),
    );
  }

  /**
   * The row of the key recorded before keys were per caller (its hash is the key's alone), when
   * it is this caller's: so that a retry spanning the upgrade is still answered, not paid
   * twice. Such a row names no caller; the ledger row it wrote does, by its actor (the API key
   * or token's name: a key's is unique and stays taken once revoked; an old key named like the
   * admin token, from before reserved names were refused, passes for it here). The row is this
   * caller's when that ledger row names this caller (it answers or refuses as before), and no
   * concern of this request when it names another. With no ledger row (a free renewal) it is
   * taken as this caller's only for the very same request, as before the upgrade. Every such
   * row is forgotten 24 hours after the upgrade.
   */
  private async legacyRow(claim: IdempotencyClaim): Promise<IdempotencyKeyEntity | null> {
    const row = await this.row(claim.legacyKeyHash);
    if (!row) return null;
    const entryId = row.ledgerEntryId;
    const owner =
      entryId === null
        ? null
        : ((
            await this.tx.alone((m) =>
              m
                .getRepository(LedgerEntryEntity)
                .findOne({ where: { id: entryId }, select: { id: true, actor: true } }),
            )
          )?.actor ?? null);
    if (owner !== null) return owner === claim.actor ? row : null;
    const same =
      row.operation === claim.operation &&
      row.customerId === claim.customerId &&
      row.requestHash === claim.requestHash;
    return same ? row : null;
  }
}

/** A duplicate key_hash: another request with the key committed first. */
export function isKeyViolation(err: unknown): boolean {
  const key = uniqueViolation(err);
  return key !== null && /idempotency_keys/.test(key);
}
