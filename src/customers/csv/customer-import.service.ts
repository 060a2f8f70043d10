import { Injectable, Logger, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In, type EntityManager } from 'typeorm';
import { secretChange } from '../../audit/audit-changes';
import { noteReadOnly } from '../../audit/audit-context';
import { AuditService, type AuditRecord } from '../../audit/audit.service';
import { EventLoopSlices } from '../../common/async/event-loop-slices';
import { inParallel } from '../../common/async/in-parallel';
import { AppError, ConflictError } from '../../common/errors/app-error';
import { insertEntities, updateEntities } from '../../database/bulk-writes';
import { uniqueViolation } from '../../database/database-errors';
import { RadCheck, RadUserGroup } from '../../database/freeradius';
import { TransactionsService } from '../../database/transactions.service';
import { SessionControlService } from '../../nas/control/session-control.service';
import { rateLimit } from '../../profiles/profile-rules';
import type { ProfileEntity } from '../../profiles/profile.entity';
import { ProfileDirectoryService } from '../../profiles/profile-directory.service';
import { customerSnapshot as snapshot, customerTarget as target } from '../customer-audit';
import { CustomerEntity } from '../customer.entity';
import { CustomerRadiusBulk } from '../customer-radius';
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
} from '../customer-rules';
import { writeSearchKeysMany } from '../customer-search-keys';
import {
  fromTextCell,
  parseExpires,
  parseVersion,
  readCsv,
  type CsvColumn,
  type CsvRow,
} from './customer-csv';
import { chunksOf, IN_LIST_MAX } from '../../common/sql/in-list';
import { forgetUsernameUsage } from '../../usage/usage-reset';
import { rowLock } from '../../database/row-locks';

export enum CustomerImportMode {
  /** Any row with an error, and nothing is written. */
  ALL_OR_NOTHING = 'ALL_OR_NOTHING',
  /** The valid rows are written; the others are reported and skipped. */
  VALID_ROWS = 'VALID_ROWS',
}

export interface ImportOptions {
  dryRun: boolean;
  mode: CustomerImportMode;
  /** Called as the import goes: rows read and checked, then rows written of those to write. */
  onProgress?: (progress: ImportProgress) => void;
}

export interface ImportProgress {
  phase: 'checking' | 'writing';
  done: number;
  total: number | null;
}

export interface ImportRowError {
  line: number;
  /** The column at fault; null for the line as a whole. */
  column: CsvColumn | null;
  message: string;
}

export interface GeneratedPassword {
  line: number;
  username: string;
  password: string;
}

export interface ImportOutcome {
  dryRun: boolean;
  mode: CustomerImportMode;
  /** Data lines read (the header is not one). */
  rows: number;
  /** Rows that are, or in a dry run would be: new customers, changed ones, and the same. */
  created: number;
  updated: number;
  unchanged: number;
  /** Rows with at least one error: skipped (VALID_ROWS), or the reason nothing was written. */
  invalid: number;
  /** Whether anything was written. */
  written: boolean;
  errors: ImportRowError[];
  /** Header cells that name no column: their cells were ignored. */
  ignoredColumns: string[];
  /** Passwords radgraph generated for new customers whose row had none: shown this once. */
  generatedPasswords: GeneratedPassword[];
  /** Online customers whose new profile's rate could not be pushed (it applies at next login). */
  ratePushFailures: number;
}

/** A row whose every cell passed its own check. undefined: the column is not in the file. */
interface Candidate {
  line: number;
  username: string;
  accountNo: string | null;
  password: string | null;
  phone: string | null | undefined;
  name: string | null | undefined;
  profileName: string | null;
  expires: Date | null | undefined;
  /** The customer's version the file was exported at; undefined: the row is not compared. */
  version: number | undefined;
}

interface Creation {
  c: Candidate;
  profile: ProfileEntity;
  accountNo: string;
  password: string;
  generated: boolean;
  expiresAt: Date | null;
}

interface Update {
  c: Candidate;
  customer: CustomerEntity;
  profile: ProfileEntity | null;
  password: string | null;
  expires: Date | null | undefined;
}

/** Rows a statement; well under SQLite's 32,766 parameters and MySQL's packet size. */
const CHUNK = 1000;

/**
 * Rows a statement on SQLite, whose statements run in this thread (better-sqlite3 is
 * synchronous): the event loop only goes round between them, so each is kept to a few tens of
 * milliseconds.
 */
const SQLITE_CHUNK = 250;

/**
 * Reading the database for a file's rows: usernames a query. Its answer (the customers, their
 * radcheck rows) is made into entities in one go, so not more: a few tens of milliseconds.
 * Not fewer either: on SQLite each is a scan of rg_customers (by LOWER(username)).
 */
const LOOKUP_CHUNK = IN_LIST_MAX;

/**
 * Customers whose search keys (some 30 each, every suffix of their login, account number and
 * phone) are written at once: about one statement's worth, a few tens of milliseconds.
 */
const SEARCH_KEYS_CHUNK = 50;

/** Moved customers whose new rate goes out at once after an import (as updateProfile's 16). */
const RATE_PUSH_PARALLEL = 16;
const MAX_FAILURES_LOGGED = 5;

const seconds = (d: Date | null) => (d === null ? null : Math.floor(d.getTime() / 1000));
const lower = (s: string) => s.toLowerCase();

/**
 * The key two logins are the same under: without case and accents, as MySQL's _ci collations
 * compare them (a login the database would take for another is caught before writing).
 */
const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

/**
 * Customers from CSV (customer-csv.ts). Every row is checked before anything is written: each
 * cell, duplicates within the file, and against the database (a taken account number, a
 * FreeRADIUS user no customer owns, an unknown profile). Then, unless a dry run, one
 * transaction writes the new customers with multi-row INSERTs (rg_customers, their search
 * keys, radcheck and radusergroup, and their audit rows) and changes the existing ones that
 * differ. A row is matched on its username, so importing the same file again changes nothing.
 */
@Injectable()
export class CustomerImportService {
  private readonly log = new Logger('CustomerImport');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly tx: TransactionsService,
    private readonly audit: AuditService,
    private readonly profiles: ProfileDirectoryService,
    @Optional() private readonly control?: SessionControlService,
  ) {}

  async import(
    source: string | AsyncIterable<Buffer | string>,
    opts: ImportOptions,
  ): Promise<ImportOutcome> {
    // Every step lets the event loop go round every few milliseconds: the process answers
    // RADIUS accounting, probes, subscriptions and signals while it imports 100,000 rows.
    const slices = new EventLoopSlices();
    const errors: ImportRowError[] = [];
    const candidates: Candidate[] = [];
    let ignoredColumns: string[] = [];
    let rows = 0;
    for await (const row of readCsv(source, (h) => (ignoredColumns = h.ignored))) {
      rows++;
      const candidate = checkRow(row, errors);
      if (candidate) candidates.push(candidate);
      if (rows % 1000 === 0) opts.onProgress?.({ phase: 'checking', done: rows, total: null });
      await slices.pause();
    }
    opts.onProgress?.({ phase: 'checking', done: rows, total: rows });
    const plan = await this.plan(await dropDuplicates(candidates, errors, slices), errors, slices);
    const invalid = new Set(errors.map((e) => e.line)).size;
    const outcome: ImportOutcome = {
      dryRun: opts.dryRun,
      mode: opts.mode,
      rows,
      created: plan.creations.length,
      updated: plan.updates.length,
      unchanged: plan.unchanged,
      invalid,
      written: false,
      errors: errors.sort((a, b) => a.line - b.line),
      ignoredColumns,
      generatedPasswords: [],
      ratePushFailures: 0,
    };
    const blocked = opts.mode === CustomerImportMode.ALL_OR_NOTHING && invalid > 0;
    const work = plan.creations.length + plan.updates.length;
    if (opts.dryRun || blocked) {
      // Nothing is written, so the counts must not tell whether a row's password is the one
      // stored: a dry run would otherwise confirm a guessed password, for any number of
      // customers at once, without changing or recording anything. A password given for an
      // existing customer counts as a change.
      outcome.updated += plan.unchangedWithPassword;
      outcome.unchanged -= plan.unchangedWithPassword;
    }
    if (opts.dryRun || blocked || work === 0) {
      noteReadOnly();
      return outcome;
    }
    await this.write(plan, opts, rows, invalid, slices);
    outcome.written = true;
    outcome.generatedPasswords = plan.creations
      .filter((n) => n.generated)
      .map((n) => ({ line: n.c.line, username: n.c.username, password: n.password }));
    outcome.ratePushFailures = await this.pushRates(plan.updates);
    return outcome;
  }

  /** Matches the rows with the database: what to create, what to change, and what is the same. */
  private async plan(
    candidates: Candidate[],
    errors: ImportRowError[],
    slices: EventLoopSlices,
  ): Promise<{
    creations: Creation[];
    updates: Update[];
    unchanged: number;
    /** Of `unchanged`, the rows that gave a password: the stored one. */
    unchangedWithPassword: number;
  }> {
    const profiles = await this.profiles.list();
    const profileOf = profileLookup(profiles);
    const creations: Creation[] = [];
    const updates: Update[] = [];
    let unchanged = 0;
    let unchangedWithPassword = 0;
    const fail = (c: Candidate, column: CsvColumn | null, message: string) =>
      errors.push({ line: c.line, column, message });
    for (const chunk of chunksOf(candidates, LOOKUP_CHUNK)) {
      const known = await this.existing(chunk, slices);
      for (const c of chunk) {
        await slices.pause();
        const profile = c.profileName === null ? null : profileOf(c.profileName);
        if (c.profileName !== null && profile === null) {
          fail(c, 'profile', `No profile named "${c.profileName}"`);
          continue;
        }
        const customer = known.customers.get(fold(c.username));
        if (customer) {
          const update = this.compare(c, customer, profile, known.passwords, fail);
          if (update === 'same') {
            unchanged++;
            if (c.password !== null) unchangedWithPassword++;
          } else if (update) updates.push(update);
          continue;
        }
        if (known.foreign.has(fold(c.username))) {
          fail(
            c,
            'username',
            `FreeRADIUS already has a user "${c.username}" that no customer owns: adoptFreeradiusAccounts (or radgraph adopt) makes it one`,
          );
          continue;
        }
        const deleted = c.version === undefined ? undefined : known.deleted.get(fold(c.username));
        if (
          deleted &&
          (c.accountNo === null ||
            deleted.accountNo === null ||
            fold(c.accountNo) === fold(deleted.accountNo))
        ) {
          fail(c, 'version', deletedSinceExport(c.username, deleted.at));
          continue;
        }
        if (profile === null) {
          fail(c, 'profile', 'A new customer needs a profile');
          continue;
        }
        if (c.accountNo !== null && known.accountNos.has(fold(c.accountNo))) {
          fail(c, 'account_no', `Account number ${c.accountNo} belongs to another customer`);
          continue;
        }
        const generated = c.password === null;
        creations.push({
          c,
          profile,
          accountNo: c.accountNo ?? '',
          password: c.password ?? '',
          generated,
          expiresAt:
            c.expires !== undefined
              ? c.expires
              : new Date(Date.now() + profile.validityDays * DAY_MS),
        });
      }
    }
    await this.assignAccountNos(creations, slices);
    return { creations, updates, unchanged, unchangedWithPassword };
  }

  /** Rows a statement on this database. */
  private writeChunk(): number {
    return this.dataSource.options.type === 'better-sqlite3' ? SQLITE_CHUNK : CHUNK;
  }

  /** What the database already has for these rows' usernames and account numbers. */
  private async existing(chunk: Candidate[], slices: EventLoopSlices) {
    const usernames = chunk.map((c) => c.username);
    const accountNos = chunk.flatMap((c) => (c.accountNo === null ? [] : [c.accountNo]));
    const repo = this.dataSource.getRepository(CustomerEntity);
    // MySQL compares usernames under the column's collation (case and accents aside); SQLite
    // byte by byte, so its lookup lowers both sides to find "Alice" for "alice".
    const found =
      this.dataSource.options.type === 'better-sqlite3'
        ? await repo
            .createQueryBuilder('c')
            .where('LOWER(c.username) IN (:...u)', { u: usernames.map(lower) })
            .getMany()
        : await repo.findBy({ username: In(usernames) });
    const customers = new Map(found.map((c) => [fold(c.username), c]));
    const wanted = new Set(usernames.map(fold));
    if (found.some((c) => !wanted.has(fold(c.username)))) {
      // The database matched a row that fold() does not (its collation knows more equal
      // letters, ß and ss say): ask it, login by login, which one each row is.
      for (const c of chunk) {
        if (customers.has(fold(c.username))) continue;
        const same = await repo.findOneBy({ username: c.username });
        if (same) customers.set(fold(c.username), same);
      }
    }
    await slices.pause();
    const passwords = new Map<string, string>();
    const foreign = new Set<string>();
    const checks = await this.dataSource.getRepository(RadCheck).find({
      select: { username: true, attribute: true, value: true },
      where: { username: In(usernames) },
    });
    await slices.pause();
    const groups = await this.dataSource.getRepository(RadUserGroup).find({
      select: { username: true },
      where: { username: In(usernames) },
    });
    for (const r of checks) {
      if (r.attribute === 'Cleartext-Password') passwords.set(fold(r.username), r.value);
    }
    for (const r of [...checks, ...groups]) {
      if (!customers.has(fold(r.username))) foreign.add(fold(r.username));
    }
    await slices.pause();
    const owners =
      accountNos.length === 0
        ? []
        : await this.dataSource.getRepository(CustomerEntity).find({
            select: { accountNo: true },
            where: { accountNo: In(accountNos) },
          });
    await slices.pause();
    return {
      customers,
      passwords,
      foreign,
      accountNos: new Set(owners.map((o) => fold(o.accountNo))),
      deleted: await this.deletedSince(chunk, customers),
    };
  }

  /**
   * The customers of versioned rows (rows of an export) that are gone, by username: when each
   * was last deleted and its account number, from the audit trail. Such a row, of the same
   * account, is of an export made before the deletion, and would create the customer again
   * (refused, see plan). A file exported elsewhere, into an instance that never had the
   * customer, finds nothing here.
   */
  private async deletedSince(
    chunk: Candidate[],
    customers: ReadonlyMap<string, CustomerEntity>,
  ): Promise<Map<string, { at: Date; accountNo: string | null }>> {
    const gone = chunk.filter((c) => c.version !== undefined && !customers.has(fold(c.username)));
    const deleted = new Map<string, { at: Date; accountNo: string | null }>();
    const removals = await this.audit.removals(
      'customer',
      'username',
      gone.map((c) => c.username),
    );
    for (const r of removals) {
      const username = fold(r.before.get('username') ?? r.label);
      const last = deleted.get(username);
      if (!last || last.at.getTime() <= r.at.getTime()) {
        deleted.set(username, { at: r.at, accountNo: r.before.get('accountNo') ?? null });
      }
    }
    return deleted;
  }

  /** An existing customer's row: the same, a change, or an error (null). */
  private compare(
    c: Candidate,
    customer: CustomerEntity,
    profile: ProfileEntity | null,
    passwords: Map<string, string>,
    fail: (c: Candidate, column: CsvColumn | null, message: string) => void,
  ): Update | 'same' | null {
    if (customer.username !== c.username) {
      fail(
        c,
        'username',
        `A customer "${customer.username}" already exists: to the database it is the same login (usernames differ only in case or accents)`,
      );
      return null;
    }
    if (c.accountNo !== null && c.accountNo !== customer.accountNo) {
      fail(
        c,
        'account_no',
        `${c.username} has account number ${customer.accountNo}; an import does not change account numbers`,
      );
      return null;
    }
    const password =
      c.password !== null && c.password !== passwords.get(fold(c.username)) ? c.password : null;
    const expires =
      c.expires !== undefined && seconds(c.expires) !== seconds(customer.expiresAt)
        ? c.expires
        : undefined;
    const changed =
      password !== null ||
      expires !== undefined ||
      (c.phone !== undefined && c.phone !== customer.phone) ||
      (c.name !== undefined && c.name !== customer.name) ||
      (profile !== null && profile.id !== customer.profileId);
    if (!changed) return 'same';
    if (c.version !== undefined && customer.version > c.version) {
      fail(c, 'version', stale(c.username));
      return null;
    }
    return {
      c,
      customer,
      profile: profile !== null && profile.id !== customer.profileId ? profile : null,
      password,
      expires,
    };
  }

  /** New account numbers for new customers without one, unique in the file and the database. */
  private async assignAccountNos(creations: Creation[], slices: EventLoopSlices): Promise<void> {
    const taken = new Set<string>();
    let pending: Creation[] = [];
    for (const n of creations) {
      if (n.accountNo === '') pending.push(n);
      else taken.add(lower(n.accountNo));
      await slices.pause();
    }
    while (pending.length > 0) {
      for (const n of pending) {
        do n.accountNo = generateAccountNo();
        while (taken.has(lower(n.accountNo)));
        taken.add(lower(n.accountNo));
        await slices.pause();
      }
      const clashes = new Set<string>();
      for (const chunk of chunksOf(pending, LOOKUP_CHUNK)) {
        const rows = await this.dataSource.getRepository(CustomerEntity).find({
          select: { accountNo: true },
          where: { accountNo: In(chunk.map((n) => n.accountNo)) },
        });
        rows.forEach((r) => clashes.add(lower(r.accountNo)));
        await slices.pause();
      }
      pending = pending.filter((n) => clashes.has(lower(n.accountNo)));
    }
    for (const n of creations) {
      if (n.generated) n.password = generatePassword();
      await slices.pause();
    }
  }

  private async write(
    plan: { creations: Creation[]; updates: Update[] },
    opts: ImportOptions,
    rows: number,
    invalid: number,
    slices: EventLoopSlices,
  ): Promise<void> {
    const total = plan.creations.length + plan.updates.length;
    let done = 0;
    const progress = (n: number) => {
      done += n;
      opts.onProgress?.({ phase: 'writing', done, total });
    };
    // On SQLite the transaction is on the one connection every request shares, in this
    // thread: let the event loop run inside it, and a read meanwhile would see its uncommitted
    // rows, and a write that does not wait for transactions would land in it. It runs through
    // (the reading and checking before it let the event loop run).
    const inTransaction =
      this.dataSource.options.type === 'better-sqlite3' ? new EventLoopSlices(Infinity) : slices;
    try {
      await this.tx.run(async (m) => {
        await refreshProfiles(m, plan, this.profiles);
        for (const chunk of chunksOf(plan.creations, this.writeChunk())) {
          await this.create(m, chunk, inTransaction);
          progress(chunk.length);
        }
        for (const chunk of chunksOf(plan.updates, this.writeChunk())) {
          await this.update(m, chunk, inTransaction);
          progress(chunk.length);
        }
        await this.audit.record(m, {
          target: { type: 'customerImport', id: null, label: 'csv' },
          before: null,
          after: {
            mode: opts.mode,
            rows,
            created: plan.creations.length,
            updated: plan.updates.length,
            skipped: invalid,
          },
        });
      });
    } catch (err) {
      const key = uniqueViolation(err);
      if (key === null || err instanceof AppError) throw err;
      throw new ConflictError(
        `A ${/account_no/.test(key) ? 'account number' : 'username'} of this file is one the database already holds: another change took it while the file was imported, or the database takes two of the file's for the same (its collation knows more equal letters than radgraph's check); nothing was written.`,
        { field: 'csv', reason: 'CHANGED_DURING_IMPORT' },
      );
    }
  }

  /** New customers with multi-row INSERTs, in the caller's transaction. */
  private async create(
    m: EntityManager,
    chunk: Creation[],
    slices: EventLoopSlices,
  ): Promise<void> {
    const now = new Date();
    const entities = chunk.map((n) =>
      m.create(CustomerEntity, {
        accountNo: n.accountNo,
        username: n.c.username,
        phone: n.c.phone ?? null,
        name: n.c.name ?? null,
        profileId: n.profile.id,
        joinedAt: now,
        expiresAt: n.expiresAt,
        suspended: false,
        balanceMinor: '0',
        searchText: searchText({
          accountNo: n.accountNo,
          username: n.c.username,
          phone: n.c.phone ?? null,
        }),
      }),
    );
    await slices.pause();
    await insertEntities(m, CustomerEntity, entities);
    await slices.pause();
    const ids = await m.getRepository(CustomerEntity).find({
      select: { id: true, username: true },
      where: { username: In(entities.map((e) => e.username)) },
    });
    const idOf = new Map(ids.map((r) => [r.username, r.id]));
    for (const e of entities) e.id = idOf.get(e.username)!;
    await slices.pause();
    for (const part of chunksOf(entities, SEARCH_KEYS_CHUNK)) {
      await writeSearchKeysMany(m, part, true);
      await slices.pause();
    }
    await CustomerRadiusBulk.create(
      m,
      chunk.map((n) => ({
        username: n.c.username,
        password: n.password,
        expiresAt: n.expiresAt,
        groupname: n.profile.name,
      })),
    );
    await slices.pause();
    // New customers start from zero, whoever had their usernames before.
    await forgetUsernameUsage(
      m,
      entities.map((e) => e.username),
    );
    await slices.pause();
    await this.audit.recordMany(
      m,
      entities.map((e): AuditRecord => ({
        target: target(e),
        before: null,
        after: snapshot(e),
        extra: [{ ...secretChange('password'), before: null }],
      })),
    );
    await slices.pause();
  }

  /**
   * Existing customers' changes, a chunk at a time, as updateCustomer and
   * changeCustomerProfile make them: their rows locked and read again inside the transaction,
   * then one statement per table for the chunk (the search keys, SEARCH_KEYS_CHUNK customers at
   * a time).
   */
  private async update(m: EntityManager, chunk: Update[], slices: EventLoopSlices): Promise<void> {
    const locked = await m.getRepository(CustomerEntity).find({
      where: { id: In(chunk.map((u) => u.customer.id)) },
      lock: rowLock(m, 'pessimistic_write'),
    });
    await slices.pause();
    const byId = new Map(locked.map((c) => [c.id, c]));
    const customers: CustomerEntity[] = [];
    const audits: AuditRecord[] = [];
    const passwords: Array<[string, string]> = [];
    const expirations: Array<[string, Date | null]> = [];
    const groups: Array<[string, string]> = [];
    const rekeyed: CustomerEntity[] = [];
    for (const u of chunk) {
      const c = byId.get(u.customer.id);
      if (!c) {
        throw new ConflictError(
          `${u.c.username} was deleted while the file was imported; nothing was written. Import it again.`,
          { field: 'csv', reason: 'CHANGED_DURING_IMPORT' },
        );
      }
      if (u.c.version !== undefined && c.version > u.c.version) {
        throw new ConflictError(
          `Line ${u.c.line}: ${stale(u.c.username)} (while the file was imported); nothing was written.`,
          { field: 'csv', reason: 'CHANGED_DURING_IMPORT' },
        );
      }
      const before = snapshot(c);
      if (u.c.phone !== undefined) c.phone = u.c.phone;
      if (u.c.name !== undefined) c.name = u.c.name;
      if (u.profile !== null) {
        c.profileId = u.profile.id;
        groups.push([c.username, u.profile.name]);
      }
      if (u.expires !== undefined) {
        c.expiresAt = u.expires;
        expirations.push([c.username, u.expires]);
      }
      if (u.password !== null) passwords.push([c.username, u.password]);
      const text = searchText(c);
      if (text !== c.searchText) {
        c.searchText = text;
        rekeyed.push(c);
      }
      customers.push(c);
      audits.push({
        target: target(c),
        before,
        after: snapshot(c),
        extra: u.password !== null ? [secretChange('password')] : [],
      });
    }
    await slices.pause();
    await updateEntities(m, CustomerEntity, customers, [
      'phone',
      'name',
      'profileId',
      'expiresAt',
      'searchText',
    ]);
    await slices.pause();
    for (const part of chunksOf(rekeyed, SEARCH_KEYS_CHUNK)) {
      await writeSearchKeysMany(m, part, false);
      await slices.pause();
    }
    await CustomerRadiusBulk.setPasswords(m, passwords);
    await slices.pause();
    await CustomerRadiusBulk.setExpiration(m, expirations);
    await slices.pause();
    await CustomerRadiusBulk.setGroup(m, groups);
    await slices.pause();
    await this.audit.recordMany(m, audits);
    await slices.pause();
  }

  /**
   * After the commit: the new profile's rate to each moved customer who is online, at most
   * RATE_PUSH_PARALLEL customers at a time, as one push: a NAS that leaves
   * COA_GIVE_UP_AFTER_TIMEOUTS requests in a row unanswered is not tried again for the rest of
   * the import. The number of moved customers not reached on every open session: a NAS that
   * refused, did not answer or was given up on (changeUserRate reports that; it does not
   * throw), or an error.
   */
  private async pushRates(updates: Update[]): Promise<number> {
    const control = this.control;
    if (!control) return 0;
    const moved = updates.filter((u) => u.profile !== null);
    const silent = control.silentNases();
    const failures = (
      await inParallel(moved, RATE_PUSH_PARALLEL, async (u): Promise<string | null> => {
        try {
          const report = await control.changeUserRate(
            u.c.username,
            rateLimit(u.profile!.uploadRateKbps, u.profile!.downloadRateKbps),
            { announce: true, silent },
          );
          return report.reached < report.sessions
            ? `${u.c.username}: ${report.failures.join('; ')}`
            : null;
        } catch (err) {
          return `${u.c.username}: ${(err as Error).message}`;
        }
      })
    ).filter((f): f is string => f !== null);
    for (const line of silent.summaries()) this.log.warn(`CSV import: ${line}`);
    if (failures.length > 0) {
      const shown = failures.slice(0, MAX_FAILURES_LOGGED).join(' | ');
      const more =
        failures.length > MAX_FAILURES_LOGGED
          ? ` | and ${failures.length - MAX_FAILURES_LOGGED} more`
          : '';
      this.log.warn(
        `cannot push the new rate to ${failures.length} of ${moved.length} moved customer(s); they get it at their next login: ${shown}${more}`,
      );
    }
    return failures.length;
  }
}

/**
 * The plan's profiles read again inside the write's transaction, their rows locked FOR SHARE
 * (ProfileDirectoryService.requireMany, as require does for createCustomer) until it commits:
 * the plan read them before it began, and a profile renamed since would put its customers in a
 * group no profile has. A rename now waits for the import, or ran first and the import writes
 * the new name.
 */
async function refreshProfiles(
  m: EntityManager,
  plan: { creations: Creation[]; updates: Update[] },
  profiles: ProfileDirectoryService,
): Promise<void> {
  const planned = new Map<number, ProfileEntity>();
  for (const n of plan.creations) planned.set(n.profile.id, n.profile);
  for (const u of plan.updates) if (u.profile !== null) planned.set(u.profile.id, u.profile);
  if (planned.size === 0) return;
  const current = await profiles.requireMany(m, [...planned.keys()]);
  for (const [id, p] of planned) {
    if (!current.has(id)) {
      throw new ConflictError(
        `Profile "${p.name}" was deleted while the file was imported; nothing was written. Import it again.`,
        { field: 'csv', reason: 'CHANGED_DURING_IMPORT' },
      );
    }
  }
  for (const n of plan.creations) n.profile = current.get(n.profile.id)!;
  for (const u of plan.updates) if (u.profile !== null) u.profile = current.get(u.profile.id)!;
}

/** Checks each cell of a row on its own; the errors go to `errors`, naming line and column. */
function checkRow(row: CsvRow, errors: ImportRowError[]): Candidate | null {
  if (row.fieldCountError) {
    errors.push({ line: row.line, column: null, message: row.fieldCountError });
    return null;
  }
  const before = errors.length;
  const cell = (column: CsvColumn) => row.cells[column];
  const check = <T>(column: CsvColumn, fn: (value: string) => T): T | undefined => {
    const value = cell(column);
    if (value === undefined) return undefined;
    try {
      return fn(value);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      errors.push({ line: row.line, column, message: err.message });
      return undefined;
    }
  };
  const username = check('username', (v) => checkUsername('username', v));
  const accountNo = check('account_no', (v) => (v === '' ? null : checkAccountNo('account_no', v)));
  const password = check('password', (v) => (v === '' ? null : checkPassword('password', v)));
  const phone = check('phone', (v) => checkPhone('phone', v === '' ? null : v));
  const name = check('name', (v) => checkName('name', v === '' ? null : fromTextCell(v)));
  const profileName = check('profile', (v) => (v.trim() === '' ? null : fromTextCell(v.trim())));
  const expires = check('expires', (v) =>
    v.trim() === '' ? undefined : parseExpires('expires', v),
  );
  const version = check('version', (v) =>
    v.trim() === '' ? undefined : parseVersion('version', v),
  );
  if (errors.length > before || username === undefined) return null;
  return {
    line: row.line,
    username,
    accountNo: accountNo ?? null,
    password: password ?? null,
    phone,
    name,
    profileName: profileName ?? null,
    expires,
    version,
  };
}

/**
 * A row of an older export that would change a customer changed since: written, it would undo
 * that change (a renewal's expiry, a new profile) with what the file still says.
 */
const deletedSinceExport = (username: string, at: Date) =>
  `${username} was deleted on ${at.toISOString().slice(0, 16).replace('T', ' ')} UTC, after this file was exported: to create the customer again, clear the row's version cell`;

const stale = (username: string) =>
  `${username} changed since this file was exported: export again, or remove the version column to overwrite`;

/** A username or account number a second time in the file: an error on the later line. */
async function dropDuplicates(
  candidates: Candidate[],
  errors: ImportRowError[],
  slices: EventLoopSlices,
): Promise<Candidate[]> {
  const usernames = new Map<string, number>();
  const accountNos = new Map<string, number>();
  const kept: Candidate[] = [];
  for (const c of candidates) {
    await slices.pause();
    const user = fold(c.username);
    const firstUser = usernames.get(user);
    if (firstUser !== undefined) {
      errors.push({
        line: c.line,
        column: 'username',
        message: `${c.username} is also on line ${firstUser}`,
      });
      continue;
    }
    const account = c.accountNo === null ? null : fold(c.accountNo);
    const firstAccount = account === null ? undefined : accountNos.get(account);
    if (firstAccount !== undefined) {
      errors.push({
        line: c.line,
        column: 'account_no',
        message: `Account number ${c.accountNo} is also on line ${firstAccount}`,
      });
      continue;
    }
    usernames.set(user, c.line);
    if (account !== null) accountNos.set(account, c.line);
    kept.push(c);
  }
  return kept;
}

/** A profile by its name: exactly, or without regard to case when that is unambiguous. */
function profileLookup(profiles: ProfileEntity[]): (name: string) => ProfileEntity | null {
  const exact = new Map(profiles.map((p) => [p.name, p]));
  const folded = new Map<string, ProfileEntity | null>();
  for (const p of profiles) {
    const key = lower(p.name);
    folded.set(key, folded.has(key) ? null : p);
  }
  return (name) => exact.get(name) ?? folded.get(lower(name)) ?? null;
}
