import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { EntityManager, In } from 'typeorm';
import { ConflictError } from '../common/errors/app-error';
import { CurrencyService } from '../common/money/currency.service';
import { isForeignKeyViolation, uniqueViolation } from '../database/database-errors';
import { RadGroupCheck, RadGroupReply, RadUserGroup } from '../database/freeradius';
import { TransactionsService } from '../database/transactions.service';
import { CreateProfileInput } from './dto/create-profile.input';
import { UpdateProfileInput } from './dto/update-profile.input';
import { ProfileEntity } from './profile.entity';
import {
  checkDataLimit,
  checkFup,
  checkInterim,
  checkName,
  checkPrice,
  checkRate,
  checkValidity,
  DEFAULT_INTERIM_INTERVAL,
  groupNameProblem,
  groupReplyRows,
  rateLimit,
} from './profile-rules';
import type { RateChangeReport } from '../nas/control/models/rate-change.model';
import { SessionControlService } from '../nas/control/session-control.service';
import { AuditService } from '../audit/audit.service';
import { profileAudit as audited } from './profile-audit';
import { parseRateLimit } from './rate-limit';
import { ProfileDirectoryService } from './profile-directory.service';

/** Profiles and their FreeRADIUS groups, always changed together in one transaction. */
@Injectable()
export class ProfilesService implements OnApplicationBootstrap {
  private readonly log = new Logger('ProfilesService');

  constructor(
    private readonly tx: TransactionsService,
    private readonly control: SessionControlService,
    private readonly currency: CurrencyService,
    private readonly audit: AuditService,
    private readonly directory: ProfileDirectoryService,
  ) {}

  /**
   * A warning for each profile whose name FreeRADIUS cannot match as a group (made before
   * checkName refused such names): its customers log in without its speed limit until it is
   * renamed. Profile.groupNameProblem says the same in the API.
   */
  async onApplicationBootstrap(): Promise<void> {
    try {
      for (const p of await this.directory.list()) {
        const problem = groupNameProblem(p.name);
        if (problem) this.log.warn(`Profile ${p.id} "${p.name}": ${problem}`);
      }
    } catch (err) {
      this.log.warn(`cannot check the profiles' group names: ${(err as Error).message}`);
    }
  }

  create(input: CreateProfileInput): Promise<ProfileEntity> {
    const values = {
      name: checkName('input.name', input.name),
      downloadRateKbps: checkRate('input.downloadRateKbps', input.downloadRateKbps),
      uploadRateKbps: checkRate('input.uploadRateKbps', input.uploadRateKbps),
      dataLimitBytes: checkDataLimit('input.dataLimitBytes', input.dataLimitBytes),
      validityDays: checkValidity('input.validityDays', input.validityDays),
      interimIntervalSeconds: checkInterim(
        'input.interimIntervalSeconds',
        input.interimIntervalSeconds ?? DEFAULT_INTERIM_INTERVAL,
      ),
      priceMinor: checkPrice('input.price', this.currency.parse('input.price', input.price ?? 0)),
      ...checkFup(input.fupUploadRateKbps, input.fupDownloadRateKbps),
    };
    return this.write(async (m) => {
      await this.refuseForeignGroup(m, values.name);
      const profile = await m.getRepository(ProfileEntity).save(m.create(ProfileEntity, values));
      await this.writeGroupReply(m, profile);
      await this.audit.record(m, audited(null, profile));
      return profile;
    });
  }

  /**
   * Changes the profile. When its speeds change, the new rate also goes to every online
   * customer of the profile (CoA-Request, in bounded parallel), after the commit. When only its
   * data limit or FUP speeds change, the data cap hears of it (SessionControlService.planChanged).
   */
  async update(
    id: string,
    input: UpdateProfileInput,
  ): Promise<{ profile: ProfileEntity; rateChange: RateChangeReport | null }> {
    let before = '';
    let capBefore = '';
    const profile = await this.save(id, input, (p) => {
      before = rateLimit(p.uploadRateKbps, p.downloadRateKbps);
      capBefore = capTerms(p);
    });
    const after = rateLimit(profile.uploadRateKbps, profile.downloadRateKbps);
    if (after === before) {
      if (capTerms(profile) !== capBefore) this.control.planChanged({ groupname: profile.name });
      return { profile, rateChange: null };
    }
    return { profile, rateChange: await this.pushRate(profile.name, after) };
  }

  /**
   * changeGroupRate, after the commit: the change is made, so a push that fails as a whole (a
   * NAS whose stored API password SECRETS_KEY cannot open, a lost database connection) is
   * reported in the answer and logged, never an error of the mutation (the caller would think
   * nothing changed, and a retry would push nothing). The data cap still hears of the change.
   */
  private async pushRate(groupname: string, rate: string): Promise<RateChangeReport> {
    try {
      return await this.control.changeGroupRate(groupname, rate);
    } catch (err) {
      const why = (err as Error).message;
      this.log.warn(`cannot push rate ${rate} to the online customers of ${groupname}: ${why}`);
      this.control.planChanged({ groupname });
      return {
        rateLimit: rate,
        sessions: 0,
        reached: 0,
        held: 0,
        failures: [`not pushed: ${why}; the customers get the new rate at their next login`],
      };
    }
  }

  private save(
    id: string,
    input: UpdateProfileInput,
    seen: (before: ProfileEntity) => void,
  ): Promise<ProfileEntity> {
    const changes: Partial<ProfileEntity> = {};
    if (input.downloadRateKbps != null) {
      changes.downloadRateKbps = checkRate('input.downloadRateKbps', input.downloadRateKbps);
    }
    if (input.uploadRateKbps != null) {
      changes.uploadRateKbps = checkRate('input.uploadRateKbps', input.uploadRateKbps);
    }
    if (input.dataLimitBytes !== undefined) {
      changes.dataLimitBytes = checkDataLimit('input.dataLimitBytes', input.dataLimitBytes);
    }
    if (input.validityDays != null)
      changes.validityDays = checkValidity('input.validityDays', input.validityDays);
    if (input.price != null) {
      changes.priceMinor = checkPrice(
        'input.price',
        this.currency.parse('input.price', input.price),
      );
    }
    if (input.fupUploadRateKbps !== undefined || input.fupDownloadRateKbps !== undefined) {
      // Both together: null and null remove fair use.
      Object.assign(changes, checkFup(input.fupUploadRateKbps, input.fupDownloadRateKbps));
    }
    if (input.interimIntervalSeconds != null) {
      changes.interimIntervalSeconds = checkInterim(
        'input.interimIntervalSeconds',
        input.interimIntervalSeconds,
      );
    }
    return this.write(async (m) => {
      const profile = await this.directory.requireForUpdate(m, id, 'id');
      seen(profile);
      const before = { ...profile };
      const oldName = profile.name;
      // Checked only when it changes: a form sent whole, with an older profile's name that
      // FreeRADIUS cannot match (Profile.groupNameProblem), still saves its other fields.
      if (input.name != null && input.name !== oldName) {
        changes.name = checkName('input.name', input.name);
      }
      Object.assign(profile, changes);
      if (profile.name !== oldName) {
        await this.refuseForeignGroup(m, profile.name);
        // The group moves with the profile, for every customer, in this transaction.
        for (const table of [RadGroupReply, RadGroupCheck, RadUserGroup]) {
          await m.getRepository(table).update({ groupname: oldName }, { groupname: profile.name });
        }
      }
      const saved = await m.getRepository(ProfileEntity).save(profile);
      await this.writeGroupReply(m, saved);
      await this.audit.record(m, audited(before, saved));
      return saved;
    });
  }

  delete(id: string): Promise<boolean> {
    return this.write(async (m) => {
      const profile = await this.directory.requireForUpdate(m, id, 'id');
      // The customers' foreign key (ON DELETE RESTRICT) refuses while any customer uses it.
      await m.getRepository(ProfileEntity).delete({ id: profile.id });
      await m.getRepository(RadGroupReply).delete({ groupname: profile.name });
      await m.getRepository(RadGroupCheck).delete({ groupname: profile.name });
      await this.audit.record(m, audited(profile, null));
      return true;
    });
  }

  /**
   * Writes the rows radgraph owns in the group's radgroupreply whose meaning differs from the
   * profile's; others stay. A row that already says what the profile says is left as it is:
   * a group adopted from another tool (adoptFreeradiusAccounts) keeps its Mikrotik-Rate-Limit's
   * burst settings, byte for byte, until its speeds change.
   */
  private async writeGroupReply(m: EntityManager, profile: ProfileEntity): Promise<void> {
    const repo = m.getRepository(RadGroupReply);
    const rows = groupReplyRows(profile);
    const current = await repo.findBy({
      groupname: profile.name,
      attribute: In(rows.map((r) => r.attribute)),
    });
    for (const row of rows) {
      const same = current.filter((c) => c.attribute.toLowerCase() === row.attribute.toLowerCase());
      if (same.length === 1 && sameReply(row, same[0])) continue;
      await repo.delete({ groupname: profile.name, attribute: row.attribute });
      await repo.insert({ ...row, groupname: profile.name });
    }
  }

  /**
   * A group that FreeRADIUS already has but no profile owns (made by hand, or by another
   * tool) is not silently taken over.
   */
  private async refuseForeignGroup(m: EntityManager, name: string): Promise<void> {
    const owned = await m.getRepository(ProfileEntity).existsBy({ name });
    if (owned) return; // the unique index reports the duplicate profile
    const users = await m.getRepository(RadUserGroup).countBy({ groupname: name });
    const replies = await m.getRepository(RadGroupReply).countBy({ groupname: name });
    if (users + replies > 0) {
      throw new ConflictError(
        `FreeRADIUS already has a group named "${name}" that no profile owns: adoptFreeradiusAccounts (or radgraph adopt) makes it a profile`,
        { field: 'input.name', reason: 'GROUP_EXISTS' },
      );
    }
  }

  private async write<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await this.tx.run(work);
    } catch (err) {
      if (uniqueViolation(err) !== null) {
        throw new ConflictError('A profile with this name already exists', {
          field: 'input.name',
          reason: 'PROFILE_NAME_TAKEN',
        });
      }
      if (isForeignKeyViolation(err)) {
        throw new ConflictError(
          'This profile is assigned to customers: move them to another profile first',
          {
            field: 'id',
            reason: 'PROFILE_IN_USE',
          },
        );
      }
      throw err;
    }
  }
}

/** A profile's data limit and FUP speeds, as one comparable value. */
function capTerms(p: ProfileEntity): string {
  return JSON.stringify([
    // A string here, a number from SQLite's bigint column: compared as text.
    p.dataLimitBytes == null ? null : String(p.dataLimitBytes),
    p.fupUploadRateKbps ?? null,
    p.fupDownloadRateKbps ?? null,
  ]);
}

/** Whether a group's reply row already says what radgraph's would: the same base rate, say. */
function sameReply(
  mine: { attribute: string; op: string; value: string },
  row: { op: string; value: string },
): boolean {
  if (row.op !== ':=' && row.op !== '=') return false;
  if (mine.attribute !== 'Mikrotik-Rate-Limit') return row.value.trim() === mine.value;
  const theirs = parseRateLimit(row.value);
  const ours = parseRateLimit(mine.value);
  return (
    theirs.ok &&
    ours.ok &&
    theirs.uploadRateKbps === ours.uploadRateKbps &&
    theirs.downloadRateKbps === ours.downloadRateKbps
  );
}
