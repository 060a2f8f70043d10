import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { ConflictError, NotFoundError } from '../common/errors/app-error';
import { toMinor } from '../common/money/money';
import { uniqueViolation } from '../database/database-errors';
import { TransactionsService } from '../database/transactions.service';
import type { DisconnectResult } from '../nas/control/models/disconnect-result.model';
import { SessionControlService } from '../nas/control/session-control.service';
import { rateLimit } from '../profiles/profile-rules';
import { ProfileDirectoryService } from '../profiles/profile-directory.service';
import { CustomerDirectoryService } from './customer-directory.service';
import { CustomerEntity } from './customer.entity';
import { CustomerLedgerService } from './customer-ledger.service';
import { lockCustomer } from './customer-lock';
import { ProfileEntity } from '../profiles/profile.entity';
import { CustomerRadiusRows } from './customer-radius';
import { writeSearchKeys } from './customer-search-keys';
import {
  checkAccountNo,
  checkName,
  checkPassword,
  checkPhone,
  checkUsername,
  DAY_MS,
  generateAccountNo,
  generatePassword,
  searchText,
} from './customer-rules';
import { CreateCustomerInput } from './dto/create-customer.input';
import { UpdateCustomerInput } from './dto/update-customer.input';
import { LedgerKind } from './ledger-kind';
import { Clock } from '../common/clock/clock';
import { KeyedQueue } from '../common/async/keyed-queue';
import { parseId } from '../common/validation/id';
import { secretChange, type AuditFieldChange } from '../audit/audit-changes';
import { AuditService } from '../audit/audit.service';
import { customerSnapshot as snapshot, customerTarget as target } from './customer-audit';
import { forgetUsernameUsage } from '../usage/usage-reset';
import { BillingIdempotency, isKeyViolation } from './idempotency/billing-idempotency.service';
import type { BillingCaller } from './ledger-actor';

/** How many fresh account numbers to try before giving up (40 bits each: never, in practice). */
const ACCOUNT_NO_ATTEMPTS = 5;

/**
 * The rules of a customer's life: every mutation writes radgraph's row and FreeRADIUS's rows
 * in one transaction, and uniqueness is the database's to enforce, so a race cannot slip
 * past it.
 */
@Injectable()
export class CustomersService {
  private readonly log = new Logger('CustomersService');
  /** Plan-rate pushes, one at a time per customer id (pushPlanRate). */
  private readonly ratePushes = new KeyedQueue();

  constructor(
    private readonly tx: TransactionsService,
    private readonly profiles: ProfileDirectoryService,
    private readonly control: SessionControlService,
    private readonly directory: CustomerDirectoryService,
    private readonly ledger: CustomerLedgerService,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly idempotency: BillingIdempotency,
  ) {}

  /**
   * A new customer. Without a password, one is generated (generatePassword: the CSPRNG) and
   * returned this once, for the operator to hand to the customer.
   */
  async create(
    input: CreateCustomerInput,
  ): Promise<{ customer: CustomerEntity; generatedPassword: string | null }> {
    const username = checkUsername('input.username', input.username);
    const generatedPassword = input.password == null ? generatePassword() : null;
    const password = generatedPassword ?? checkPassword('input.password', input.password!);
    const phone = checkPhone('input.phone', input.phone);
    const name = checkName('input.name', input.name);
    const given = input.accountNo ? checkAccountNo('input.accountNo', input.accountNo) : null;
    for (let attempt = 1; ; attempt++) {
      const accountNo = given ?? generateAccountNo();
      try {
        const customer = await this.write(async (m) => {
          const profile = await this.profiles.require(m, input.profileId, 'input.profileId');
          const now = new Date();
          const customer = m.create(CustomerEntity, {
            accountNo,
            username,
            phone,
            name,
            profileId: profile.id,
            joinedAt: now,
            expiresAt: new Date(now.getTime() + profile.validityDays * DAY_MS),
            suspended: false,
            balanceMinor: '0',
            searchText: searchText({ accountNo, username, phone }),
          });
          // The row first: its unique index settles a race for the username before
          // anything is written to FreeRADIUS's tables.
          await m.getRepository(CustomerEntity).insert(customer);
          await writeSearchKeys(m, customer);
          const radius = new CustomerRadiusRows(m, username);
          if (await radius.exist()) {
            throw new ConflictError(
              `FreeRADIUS already has a user "${username}" that no customer owns: adoptFreeradiusAccounts (or radgraph adopt) makes it one`,
              {
                field: 'input.username',
                reason: 'USERNAME_TAKEN',
              },
            );
          }
          await radius.create(password, customer.expiresAt, profile.name);
          // A new customer starts from zero, whoever had the username before.
          await forgetUsernameUsage(m, [username]);
          await this.audit.record(m, {
            target: target(customer),
            before: null,
            after: snapshot(customer),
            extra: [{ ...secretChange('password'), before: null }],
          });
          return customer;
        });
        return { customer, generatedPassword };
      } catch (err) {
        const generatedClash =
          given === null && err instanceof ConflictError && err.field === 'input.accountNo';
        if (!generatedClash || attempt >= ACCOUNT_NO_ATTEMPTS) throw err;
      }
    }
  }

  /** A new password from generatePassword (the CSPRNG), returned this once. */
  async resetPassword(id: string): Promise<{ customer: CustomerEntity; password: string }> {
    const password = generatePassword();
    const customer = await this.change(id, async (m, c) => {
      await new CustomerRadiusRows(m, c.username).setPassword(password);
      return [secretChange('password')];
    });
    return { customer, password };
  }

  update(id: string, input: UpdateCustomerInput): Promise<CustomerEntity> {
    const password =
      input.password == null ? null : checkPassword('input.password', input.password);
    const phone = input.phone === undefined ? undefined : checkPhone('input.phone', input.phone);
    const name = input.name === undefined ? undefined : checkName('input.name', input.name);
    return this.change(id, async (m, c) => {
      if (phone !== undefined) c.phone = phone;
      if (name !== undefined) c.name = name;
      c.searchText = searchText(c);
      await writeSearchKeys(m, c);
      if (password === null) return [];
      await new CustomerRadiusRows(m, c.username).setPassword(password);
      return [secretChange('password')];
    });
  }

  /**
   * Moves the customer to another profile. When the customer is online, the new speed goes
   * to the session at once (CoA-Request with Mikrotik-Rate-Limit), after the commit; a NAS
   * that does not take it is logged, and the next login gets the new rate anyway.
   */
  async changeProfile(id: string, profileId: string): Promise<CustomerEntity> {
    const customer = await this.change<ProfileEntity>(
      id,
      async (m, c, profile) => {
        c.profileId = profile.id;
        await new CustomerRadiusRows(m, c.username).setGroup(profile.name);
      },
      (m) => this.profiles.require(m, profileId, 'profileId'),
    );
    await this.pushPlanRate(customer);
    return customer;
  }

  /**
   * The rate of the customer's profile as committed now, to its open sessions: one push at a
   * time per customer, each reading the profile when its turn comes. Two plan changes close
   * together pushed the rate each had committed, in whatever order their CoA-Requests went
   * out: when the first one's was slower (a NAS that answered late, a retransmission), the
   * session kept the older plan's speed while radgraph and FreeRADIUS had the newer one. Now the
   * last push sends what the last commit says. (Per instance: two instances changing one
   * customer's plan at once can still cross.)
   */
  private pushPlanRate(customer: CustomerEntity): Promise<void> {
    return this.ratePushes.run(String(customer.id), async () => {
      try {
        const current = await this.directory.findOne({ id: String(customer.id) });
        const profile = current && (await this.profiles.find(current.profileId));
        if (!current || !profile) return; // deleted meanwhile: nothing to push
        const rate = rateLimit(profile.uploadRateKbps, profile.downloadRateKbps);
        await this.control.changeUserRate(current.username, rate, { announce: true });
      } catch (err) {
        this.log.warn(
          `cannot push the new rate to ${customer.username}: ${(err as Error).message}`,
        );
      }
    });
  }

  /**
   * Disconnects the customer's open sessions (disconnectCustomer). The audit row is written
   * first, and what came of it after.
   */
  async disconnect(id: string): Promise<DisconnectResult> {
    const customer = await this.directory.findOne({ id });
    if (!customer) throw new NotFoundError(`No customer with id ${id}`, { field: 'id' });
    return this.audit.recordAction(
      { target: target(customer), before: null, after: null },
      () => this.control.disconnectUser(customer.username),
      (r) => JSON.stringify(r),
    );
  }

  /**
   * expiresAt = max(now, expiresAt) + the profile's validityDays, paid from the balance: the
   * profile's price is deducted in the same transaction (a RENEWAL ledger entry). A short
   * balance refuses the renewal and changes nothing, unless `force`, which lets the balance
   * go negative. With an idempotencyKey, once (BillingIdempotency): a retry of the same
   * renewal answers with the customer and neither charges nor extends again.
   */
  renew(
    id: string,
    opts: { force: boolean; caller: BillingCaller; idempotencyKey?: string | null },
  ): Promise<CustomerEntity> {
    const claim = this.idempotency.claim(opts.idempotencyKey, opts.caller, 'renewCustomer', id, {
      force: opts.force,
    });
    return this.idempotency.run(claim, () =>
      this.change<ProfileEntity | null>(
        id,
        async (m, c, locked) => {
          await this.idempotency.record(m, claim);
          // Its profile changed between the two reads (a changeCustomerProfile committed): the
          // new one, locked now, out of order, as rarely as that happens.
          const profile =
            locked?.id === c.profileId ? locked : await this.profiles.require(m, c.profileId, 'id');
          const from = Math.max(this.clock.now().getTime(), c.expiresAt?.getTime() ?? 0);
          c.expiresAt = new Date(from + profile.validityDays * DAY_MS);
          const entryId = await this.ledger.charge(m, c, toMinor(profile.priceMinor), {
            kind: LedgerKind.RENEWAL,
            note: `Renewal: ${profile.name}, ${profile.validityDays} days, until ${c.expiresAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
            actor: opts.caller.actor,
            force: opts.force,
          });
          await new CustomerRadiusRows(m, c.username).setExpiration(c.expiresAt);
          await this.idempotency.wrote(m, claim, entryId);
        },
        async (m) => {
          const current = await this.currentProfileId(m, id);
          return current === null ? null : this.profiles.require(m, current, 'id');
        },
      ),
    );
  }

  /**
   * Suspends (Auth-Type := Reject: no next login) or resumes the customer. Suspending also
   * disconnects the customer's open sessions, after the commit (endSessions).
   */
  async setSuspended(id: string, suspended: boolean): Promise<CustomerEntity> {
    const customer = await this.change(id, async (m, c) => {
      c.suspended = suspended;
      await new CustomerRadiusRows(m, c.username).setSuspended(suspended);
    });
    if (suspended) await this.endSessions(customer.username, 'suspended');
    return customer;
  }

  /**
   * Deletes the customer and its FreeRADIUS rows, and the username's usage rollup and data-cap
   * actions (forgetUsernameUsage: a new customer of that username starts from zero; radacct
   * stays), then disconnects its open sessions (endSessions): nothing else could end them once
   * the customer is gone.
   */
  async delete(id: string): Promise<boolean> {
    const username = await this.write(async (m) => {
      const customer = await lockCustomer(m, id);
      await new CustomerRadiusRows(m, customer.username).remove();
      await forgetUsernameUsage(m, [customer.username]);
      await m.getRepository(CustomerEntity).delete({ id: customer.id });
      await this.audit.record(m, {
        target: target(customer),
        before: snapshot(customer),
        after: null,
      });
      return customer.username;
    });
    await this.endSessions(username, 'deleted');
    return true;
  }

  /**
   * Disconnects the open sessions of a customer whose access just ended (deleted, suspended),
   * after the commit. A NAS that does not take it never undoes the change: it is logged at
   * warn and counted in radgraph_disconnects_total{result="failed"}; the session then ends
   * when the NAS ends it (or, for a suspended customer, with disconnectCustomer).
   */
  private async endSessions(username: string, why: 'deleted' | 'suspended'): Promise<void> {
    try {
      const result = await this.control.disconnectIfOnline(username);
      if (result === null) return;
      if (result.ok) {
        this.log.log(`${username} ${why}: disconnected (${result.method}): ${result.message}`);
      } else {
        this.log.warn(
          `${username} ${why}, but still online: the disconnect failed (${result.method}): ${result.message}`,
        );
      }
    } catch (err) {
      this.log.warn(
        `${username} ${why}, but the disconnect could not be sent: ${(err as Error).message}`,
      );
    }
  }

  /**
   * Loads the customer inside a transaction, applies `edit`, saves it, and writes the audit
   * row of what changed (with the changes `edit` returns that the row does not show).
   *
   * `first` runs before the customer's row is locked, and `edit` gets what it returns: a
   * profile row to lock (ProfileDirectoryService.require) must be locked first, the order in which a
   * CSV import and createCustomer lock them. A change that locked the customer and then waited
   * for its profile, behind a rename waiting for an import that waits for the customer, was a
   * deadlock that InnoDB broke by rolling one of them back.
   */
  private change<T = undefined>(
    id: string,
    edit: (m: EntityManager, c: CustomerEntity, first: T) => Promise<AuditFieldChange[] | void>,
    first?: (m: EntityManager) => Promise<T>,
  ): Promise<CustomerEntity> {
    return this.write(async (m) => {
      const locked = first ? await first(m) : (undefined as T);
      const customer = await lockCustomer(m, id);
      const before = snapshot(customer);
      const extra = (await edit(m, customer, locked)) ?? [];
      const saved = await m.getRepository(CustomerEntity).save(customer);
      await this.audit.record(m, { target: target(saved), before, after: snapshot(saved), extra });
      return saved;
    });
  }

  /** The customer's profile id as committed (no lock), or null for no such customer. */
  private async currentProfileId(m: EntityManager, id: string): Promise<number | null> {
    const row = await m
      .getRepository(CustomerEntity)
      .findOne({ where: { id: parseId('id', id) }, select: { id: true, profileId: true } });
    return row?.profileId ?? null;
  }

  private async write<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await this.tx.run(work);
    } catch (err) {
      const key = uniqueViolation(err);
      // An idempotencyKey's: BillingIdempotency answers it.
      if (key === null || isKeyViolation(err)) throw err;
      if (/account_no/.test(key)) {
        throw new ConflictError('A customer with this account number already exists', {
          field: 'input.accountNo',
          reason: 'ACCOUNT_NO_TAKEN',
        });
      }
      throw new ConflictError('A customer with this username already exists', {
        field: 'input.username',
        reason: 'USERNAME_TAKEN',
      });
    }
  }
}
