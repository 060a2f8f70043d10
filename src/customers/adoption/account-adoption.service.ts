import { Injectable } from '@nestjs/common';
import { In, type EntityManager } from 'typeorm';
import { noteReadOnly } from '../../audit/audit-context';
import { AuditService, type AuditRecord } from '../../audit/audit.service';
import { AppError, ConflictError } from '../../common/errors/app-error';
import { chunksOf } from '../../common/sql/in-list';
import { insertEntities } from '../../database/bulk-writes';
import { uniqueViolation } from '../../database/database-errors';
import {
  RadCheck,
  RadGroupCheck,
  RadGroupReply,
  RadReply,
  RadUserGroup,
} from '../../database/freeradius';
import { TransactionsService } from '../../database/transactions.service';
import { profileAudit } from '../../profiles/profile-audit';
import {
  checkName,
  DEFAULT_INTERIM_INTERVAL,
  MAX_INTERIM,
  MIN_INTERIM,
} from '../../profiles/profile-rules';
import { ProfileEntity } from '../../profiles/profile.entity';
import { parseRateLimit } from '../../profiles/rate-limit';
import { customerSnapshot, customerTarget } from '../customer-audit';
import { checkUsername, generateAccountNo, searchText } from '../customer-rules';
import { writeSearchKeysMany } from '../customer-search-keys';
import { CustomerEntity } from '../customer.entity';
import { parseExpiration } from './expiration';

export enum AdoptionItemKind {
  PROFILE = 'PROFILE',
  CUSTOMER = 'CUSTOMER',
}

/** Something about one group or user: why it was not adopted, or what it was adopted without. */
export interface AdoptionProblem {
  kind: AdoptionItemKind;
  /** The group's or the user's name in FreeRADIUS's tables. */
  name: string;
  /** false: left to FreeRADIUS alone; true: adopted, with this caveat. */
  adopted: boolean;
  reason: string;
}

export interface AdoptionOutcome {
  dryRun: boolean;
  /** Whether anything was written: never in a dry run, nor when there was nothing to adopt. */
  written: boolean;
  profilesAdopted: number;
  profilesSkipped: number;
  customersAdopted: number;
  customersSkipped: number;
  problems: AdoptionProblem[];
}

/** The validity an adopted profile gets (what a renewal adds): FreeRADIUS has none. */
export const ADOPTED_VALIDITY_DAYS = 30;

const CHUNK = 1000;

/**
 * The key two names are the same under: without case and accents, as MySQL's _ci collations
 * compare them (as the CSV import's).
 */
const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

/** A user to adopt, and its profile (one adopted in the same run has no id until written). */
interface Adoptee {
  customer: CustomerEntity;
  profile: ProfileEntity;
}

interface Plan {
  profiles: ProfileEntity[];
  customers: Adoptee[];
  outcome: AdoptionOutcome;
}

/**
 * Brings the users and groups another tool (daloRADIUS, phpnuxbill, hand-written SQL) left in
 * FreeRADIUS's tables under radgraph: each group no profile owns becomes a profile of that
 * name, with the base rate of its Mikrotik-Rate-Limit, and each radcheck user no customer owns
 * a customer of its lowest-priority group's profile. Only radgraph's tables are written:
 * FreeRADIUS's rows (passwords, burst settings, every other attribute) stay byte for byte.
 * One transaction; running it again adopts nothing more.
 */
@Injectable()
export class AccountAdoptionService {
  constructor(
    private readonly tx: TransactionsService,
    private readonly audit: AuditService,
  ) {}

  async adopt(opts: { dryRun: boolean }): Promise<AdoptionOutcome> {
    try {
      // A dry run too reads in one transaction: one consistent view of every table (and on
      // SQLite, none of another caller's uncommitted rows).
      return await this.tx.run(async (m) => {
        const plan = await this.plan(m, opts.dryRun);
        if (opts.dryRun || plan.profiles.length + plan.customers.length === 0) {
          noteReadOnly();
          return plan.outcome;
        }
        await this.write(m, plan);
        plan.outcome.written = true;
        return plan.outcome;
      });
    } catch (err) {
      if (uniqueViolation(err) === null || err instanceof AppError) throw err;
      throw new ConflictError(
        'A profile or customer was created for one of these names while they were adopted; nothing was written. Run the adoption again.',
        { field: 'dryRun', reason: 'CHANGED_DURING_ADOPTION' },
      );
    }
  }

  /** What to adopt, read in the transaction `m`. */
  private async plan(m: EntityManager, dryRun: boolean): Promise<Plan> {
    const problems: AdoptionProblem[] = [];
    const outcome: AdoptionOutcome = {
      dryRun,
      written: false,
      profilesAdopted: 0,
      profilesSkipped: 0,
      customersAdopted: 0,
      customersSkipped: 0,
      problems,
    };
    const profiles = await this.adoptableGroups(m, outcome);
    const customers = await this.adoptableUsers(m, profiles, outcome);
    outcome.profilesAdopted = profiles.adopted.length;
    outcome.customersAdopted = customers.length;
    await this.assignAccountNos(m, customers);
    problems.sort((a, b) =>
      a.kind === b.kind ? cmp(a.name, b.name) : a.kind === AdoptionItemKind.PROFILE ? -1 : 1,
    );
    return { profiles: profiles.adopted, customers, outcome };
  }

  /** Each group in radgroupreply, radgroupcheck or radusergroup that no profile owns. */
  private async adoptableGroups(
    m: EntityManager,
    outcome: AdoptionOutcome,
  ): Promise<{
    adopted: ProfileEntity[];
    existing: ProfileEntity[];
    refused: Map<string, string>;
  }> {
    const existing = await m.getRepository(ProfileEntity).find();
    const owned = new Map(existing.map((p) => [fold(p.name), p]));
    const replies = await m.getRepository(RadGroupReply).find({ order: { id: 'ASC' } });
    const checks = await m
      .getRepository(RadGroupCheck)
      .createQueryBuilder('g')
      .select('DISTINCT g.groupname', 'groupname')
      .getRawMany<{ groupname: string }>();
    const members = await m
      .getRepository(RadUserGroup)
      .createQueryBuilder('g')
      .select('DISTINCT g.groupname', 'groupname')
      .getRawMany<{ groupname: string }>();
    const names = new Set<string>();
    for (const r of [...replies, ...checks, ...members]) names.add(r.groupname);
    const byFold = new Map<string, string[]>();
    for (const name of names) byFold.set(fold(name), [...(byFold.get(fold(name)) ?? []), name]);

    const adopted: ProfileEntity[] = [];
    const refused = new Map<string, string>();
    const skip = (name: string, reason: string) => {
      refused.set(name, reason);
      outcome.profilesSkipped++;
      outcome.problems.push({ kind: AdoptionItemKind.PROFILE, name, adopted: false, reason });
    };
    for (const name of [...names].sort(cmp)) {
      const claim = claimOf(name, owned.get(fold(name))?.name, byFold, {
        check: () => checkName('name', name),
        taken: (owner) => `The database takes this name for profile "${owner}"`,
        alike: (names) =>
          `The database takes ${names} for the same group (names differ only in case or accents)`,
      });
      if (claim === OWN) continue;
      if (claim !== null) {
        skip(name, claim);
        continue;
      }
      const own = (attribute: string) =>
        replies.filter(
          (r) => r.groupname === name && r.attribute.toLowerCase() === attribute.toLowerCase(),
        );
      const rates = own('Mikrotik-Rate-Limit');
      if (rates.length === 0) {
        skip(name, 'The group has no Mikrotik-Rate-Limit reply: a profile needs its speeds');
        continue;
      }
      if (new Set(rates.map((r) => r.value)).size > 1) {
        skip(
          name,
          `The group has ${rates.length} Mikrotik-Rate-Limit replies: ${rates.map((r) => `"${r.value}"`).join(', ')}`,
        );
        continue;
      }
      const rate = parseRateLimit(rates[0].value);
      if (!rate.ok) {
        skip(name, rate.reason);
        continue;
      }
      const interim = this.interimOf(name, own('Acct-Interim-Interval'), outcome);
      adopted.push(
        m.create(ProfileEntity, {
          name,
          uploadRateKbps: rate.uploadRateKbps,
          downloadRateKbps: rate.downloadRateKbps,
          dataLimitBytes: null,
          validityDays: ADOPTED_VALIDITY_DAYS,
          interimIntervalSeconds: interim,
          fupUploadRateKbps: null,
          fupDownloadRateKbps: null,
          priceMinor: '0',
        }),
      );
    }
    return { adopted, existing, refused };
  }

  /** The group's Acct-Interim-Interval, or the default, with a note when it has none it can use. */
  private interimOf(
    name: string,
    rows: Array<{ value: string }>,
    outcome: AdoptionOutcome,
  ): number {
    const note = (reason: string) =>
      outcome.problems.push({ kind: AdoptionItemKind.PROFILE, name, adopted: true, reason });
    const then = `the profile says ${DEFAULT_INTERIM_INTERVAL} s, and FreeRADIUS's rows stay as they are until the profile is edited`;
    if (rows.length === 0) {
      note(`The group has no Acct-Interim-Interval reply: ${then}`);
      return DEFAULT_INTERIM_INTERVAL;
    }
    const value =
      rows.length === 1 && /^\d{1,6}$/.test(rows[0].value.trim()) ? Number(rows[0].value) : 0;
    if (value >= MIN_INTERIM && value <= MAX_INTERIM) return value;
    note(
      `Acct-Interim-Interval ${rows.map((r) => `"${r.value}"`).join(', ')} is not one value of ${MIN_INTERIM} to ${MAX_INTERIM} seconds: ${then}`,
    );
    return DEFAULT_INTERIM_INTERVAL;
  }

  /** Each radcheck user that no customer owns, as a new customer of its group's profile. */
  private async adoptableUsers(
    m: EntityManager,
    groups: { adopted: ProfileEntity[]; existing: ProfileEntity[]; refused: Map<string, string> },
    outcome: AdoptionOutcome,
  ): Promise<Adoptee[]> {
    const checks = await m.getRepository(RadCheck).find({
      select: { username: true, attribute: true, op: true, value: true },
      order: { id: 'ASC' },
    });
    const memberships = await m.getRepository(RadUserGroup).find({ order: { id: 'ASC' } });
    const ownRates = await m.getRepository(RadReply).find({
      select: { username: true, value: true },
      where: { attribute: 'Mikrotik-Rate-Limit' },
    });
    const ownRateOf = new Map(ownRates.map((r) => [r.username, r.value]));
    const owners = await m.getRepository(CustomerEntity).find({ select: { username: true } });
    const customerOf = new Map(owners.map((c) => [fold(c.username), c.username]));
    const profileOf = new Map([...groups.existing, ...groups.adopted].map((p) => [p.name, p]));

    const rowsOf = new Map<string, RadCheck[]>();
    for (const r of checks) rowsOf.set(r.username, [...(rowsOf.get(r.username) ?? []), r]);
    const groupsOf = new Map<string, RadUserGroup[]>();
    for (const g of memberships) groupsOf.set(g.username, [...(groupsOf.get(g.username) ?? []), g]);
    const byFold = new Map<string, string[]>();
    for (const u of rowsOf.keys()) byFold.set(fold(u), [...(byFold.get(fold(u)) ?? []), u]);

    const skip = (name: string, reason: string) => {
      outcome.customersSkipped++;
      outcome.problems.push({ kind: AdoptionItemKind.CUSTOMER, name, adopted: false, reason });
    };
    const customers: Adoptee[] = [];
    const now = new Date();
    for (const username of [...rowsOf.keys()].sort(cmp)) {
      const claim = claimOf(username, customerOf.get(fold(username)), byFold, {
        check: () => checkUsername('username', username),
        taken: (owner) => `The database takes this login for customer "${owner}"`,
        alike: (names) =>
          `The database takes ${names} for the same login (they differ only in case or accents)`,
      });
      if (claim === OWN) continue;
      if (claim !== null) {
        skip(username, claim);
        continue;
      }
      const memberOf = groupsOf.get(username) ?? [];
      if (memberOf.length === 0) {
        skip(username, 'The user is in no group (radusergroup): a customer needs a profile');
        continue;
      }
      const lowest = Math.min(...memberOf.map((g) => g.priority));
      const first = [
        ...new Set(memberOf.filter((g) => g.priority === lowest).map((g) => g.groupname)),
      ];
      if (first.length > 1) {
        skip(
          username,
          `The user's groups ${first.map((g) => `"${g}"`).join(' and ')} share the lowest priority (${lowest}): give one of them a lower number`,
        );
        continue;
      }
      const profile = profileOf.get(first[0]);
      if (!profile) {
        const why = groups.refused.get(first[0]);
        skip(
          username,
          `The user's group "${first[0]}" is not adopted${why ? `: ${why}` : ' (no profile has its name)'}`,
        );
        continue;
      }
      const rows = rowsOf.get(username)!;
      const expirations = rows.filter((r) => r.attribute.toLowerCase() === 'expiration');
      let expiresAt: Date | null = null;
      if (expirations.length > 0) {
        expiresAt = expirations.length === 1 ? parseExpiration(expirations[0].value) : null;
        if (expiresAt === null) {
          outcome.problems.push({
            kind: AdoptionItemKind.CUSTOMER,
            name: username,
            adopted: true,
            reason: `Expiration ${expirations.map((r) => `"${r.value}"`).join(', ')} cannot be read: the customer has no expiry in radgraph (FreeRADIUS's row stays as it is until the customer is renewed)`,
          });
        }
      }
      const ownRate = ownRateOf.get(username);
      if (ownRate !== undefined) {
        outcome.problems.push({
          kind: AdoptionItemKind.CUSTOMER,
          name: username,
          adopted: true,
          reason: `The user has its own Mikrotik-Rate-Limit "${ownRate}" (radreply), which FreeRADIUS still replies at login; radgraph shows and pushes its profile's speeds`,
        });
      }
      const suspended = rows.some(
        (r) =>
          r.attribute.toLowerCase() === 'auth-type' &&
          r.value.trim().toLowerCase() === 'reject' &&
          (r.op === ':=' || r.op === '='),
      );
      const customer = m.create(CustomerEntity, {
        accountNo: '',
        username,
        phone: null,
        name: null,
        joinedAt: now,
        expiresAt,
        suspended,
        balanceMinor: '0',
        searchText: '',
      });
      customers.push({ customer, profile });
    }
    return customers;
  }

  /** New account numbers, unique among themselves and in the database. */
  private async assignAccountNos(m: EntityManager, adoptees: Adoptee[]): Promise<void> {
    const taken = new Set<string>();
    let pending = adoptees.map((a) => a.customer);
    while (pending.length > 0) {
      for (const c of pending) {
        do c.accountNo = generateAccountNo();
        while (taken.has(c.accountNo));
        taken.add(c.accountNo);
        c.searchText = searchText(c);
      }
      const clashes = new Set<string>();
      for (const chunk of chunksOf(pending)) {
        const rows = await m.getRepository(CustomerEntity).find({
          select: { accountNo: true },
          where: { accountNo: In(chunk.map((c) => c.accountNo)) },
        });
        rows.forEach((r) => clashes.add(r.accountNo.toUpperCase()));
      }
      pending = pending.filter((c) => clashes.has(c.accountNo));
    }
  }

  /** radgraph's rows only: the profiles, the customers, their search keys and audit rows. */
  private async write(m: EntityManager, plan: Plan): Promise<void> {
    const profiles = plan.profiles;
    if (profiles.length > 0) {
      await insertEntities(m, ProfileEntity, profiles);
      const saved = await m.getRepository(ProfileEntity).findBy({
        name: In(profiles.map((p) => p.name)),
      });
      const byName = new Map(saved.map((p) => [p.name, p]));
      for (const p of profiles) Object.assign(p, byName.get(p.name)!);
      await this.audit.recordMany(
        m,
        profiles.map((p) => profileAudit(null, p)),
      );
    }
    for (const adoptees of chunksOf(plan.customers, CHUNK)) {
      const chunk = adoptees.map(({ customer, profile }) => {
        customer.profileId = profile.id;
        return customer;
      });
      await insertEntities(m, CustomerEntity, chunk);
      const ids = await m.getRepository(CustomerEntity).find({
        select: { id: true, username: true },
        where: { username: In(chunk.map((c) => c.username)) },
      });
      const idOf = new Map(ids.map((r) => [r.username, r.id]));
      for (const c of chunk) c.id = idOf.get(c.username)!;
      await writeSearchKeysMany(m, chunk, true);
      await this.audit.recordMany(
        m,
        chunk.map((c): AuditRecord => ({
          target: customerTarget(c),
          before: null,
          after: customerSnapshot(c),
        })),
      );
    }
    const o = plan.outcome;
    await this.audit.record(m, {
      target: { type: 'freeradiusAdoption', id: null, label: 'freeradius' },
      before: null,
      after: {
        profilesAdopted: o.profilesAdopted,
        profilesSkipped: o.profilesSkipped,
        customersAdopted: o.customersAdopted,
        customersSkipped: o.customersSkipped,
      },
    });
  }
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** claimOf: radgraph's own already. */
const OWN = Symbol('own');

/**
 * Whether a FreeRADIUS group or user `name` can be adopted, checked the same way for both:
 * OWN when radgraph owns it already under that very name; else why not (the database
 * takes it for radgraph's `owner`, or takes several FreeRADIUS names, by fold(), for one; or
 * radgraph's rules refuse it: `check` throws their AppError), or null.
 */
function claimOf(
  name: string,
  owner: string | undefined,
  byFold: ReadonlyMap<string, readonly string[]>,
  say: { check: () => void; taken: (owner: string) => string; alike: (names: string) => string },
): typeof OWN | string | null {
  if (owner === name) return OWN;
  if (owner !== undefined) return say.taken(owner);
  const alike = byFold.get(fold(name))!;
  if (alike.length > 1) return say.alike(alike.map((n) => `"${n}"`).join(' and '));
  try {
    say.check();
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    return err.message;
  }
  return null;
}
