import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { SecretBox } from '../common/crypto/secret-box';
import { BadUserInputError, ConflictError, NotFoundError } from '../common/errors/app-error';
import { parseId } from '../common/validation/id';
import { NasRow } from '../database/freeradius';
import { TransactionsService } from '../database/transactions.service';
import { CreateNasInput } from './dto/create-nas.input';
import { RouterOsSettingsInput } from './dto/router-os-settings.input';
import { UpdateNasInput } from './dto/update-nas.input';
import { Nas } from './models/nas.model';
import { canonicalNasName } from './nas-address-match';
import { NasChanges } from './nas-changes';
import {
  checkApiPassword,
  checkApiUser,
  checkDescription,
  checkHost,
  checkNasName,
  checkPort,
  checkSecret,
  checkShortname,
  checkType,
  DEFAULT_COA_PORT,
  refuseMovedApiPassword,
  refuseWeakerApiTransport,
} from './nas-rules';
import { NasSettingsEntity } from './nas-settings.entity';
import { NasService, toNas } from './nas.service';
import { entitySnapshot, type AuditSnapshot } from '../audit/audit-changes';
import { AuditService } from '../audit/audit.service';
import { placeholders } from '../common/sql/in-list';
import { isDeadlock } from '../database/database-errors';
import { rowLock } from '../database/row-locks';

/** A NAS as the audit trail compares it: FreeRADIUS's row and radgraph's settings. */
function snapshot(row: NasRow, settings: NasSettingsEntity | null): AuditSnapshot {
  return {
    ...entitySnapshot(row, ['id']),
    ...(settings ? entitySnapshot(settings, ['nasId', 'createdAt', 'updatedAt']) : {}),
  };
}
const target = (row: NasRow) => ({ type: 'nas', id: row.id, label: row.nasname });

/**
 * Adds, changes and removes NAS routers: FreeRADIUS's nas row (which FreeRADIUS reads its
 * clients from) and radgraph's settings beside it, together in one transaction. The shared
 * secret and the RouterOS API password are write-only, the password encrypted (SecretBox).
 */
@Injectable()
export class NasAdminService {
  constructor(
    private readonly tx: TransactionsService,
    private readonly secrets: SecretBox,
    private readonly changes: NasChanges,
    private readonly audit: AuditService,
    private readonly nas: NasService,
  ) {}

  async create(input: CreateNasInput): Promise<Nas> {
    const row = {
      nasname: checkNasName('input.name', input.name),
      shortname: checkShortname('input.shortname', input.shortname),
      secret: checkSecret('input.secret', input.secret),
      type: checkType('input.type', input.type) ?? 'other',
      description: checkDescription('input.description', input.description),
    };
    const coaPort = checkPort('input.coaPort', input.coaPort ?? DEFAULT_COA_PORT);
    const api = input.routerOs ? this.apiSettings(input.routerOs, null) : NO_API;
    const nas = await this.write(async (m) => {
      await this.refuseTakenName(m, row.nasname, null);
      const saved = await m.getRepository(NasRow).save(m.create(NasRow, row));
      const settings = await m
        .getRepository(NasSettingsEntity)
        .save(m.create(NasSettingsEntity, { nasId: saved.id, coaPort, ...api }));
      await this.audit.record(m, {
        target: target(saved),
        before: null,
        after: snapshot(saved, settings),
      });
      return toNas(saved, settings);
    });
    this.changes.emit();
    return nas;
  }

  async update(id: string, input: UpdateNasInput): Promise<Nas> {
    const row: Partial<NasRow> = {};
    if (input.name != null) row.nasname = checkNasName('input.name', input.name);
    if (input.shortname !== undefined)
      row.shortname = checkShortname('input.shortname', input.shortname);
    if (input.secret != null) row.secret = checkSecret('input.secret', input.secret);
    if (input.type !== undefined) row.type = checkType('input.type', input.type) ?? 'other';
    if (input.description !== undefined)
      row.description = checkDescription('input.description', input.description);
    const coaPort = input.coaPort != null ? checkPort('input.coaPort', input.coaPort) : undefined;
    const nas = await this.write(async (m) => {
      const found = await this.require(m, id);
      const repo = m.getRepository(NasSettingsEntity);
      const stored = await repo.findOneBy({ nasId: found.id });
      const before = snapshot(found, stored);
      const api =
        input.routerOs === null
          ? NO_API
          : input.routerOs
            ? this.apiSettings(input.routerOs, stored)
            : undefined;
      // A stored password kept (none given) must not follow the API to another host, nor travel
      // less protected than it did.
      if (
        stored?.apiPassword != null &&
        input.routerOs !== null &&
        input.routerOs?.password == null
      ) {
        refuseMovedApiPassword(
          { apiHost: stored.apiHost, nasname: found.nasname },
          { apiHost: api ? api.apiHost : stored.apiHost, nasname: row.nasname ?? found.nasname },
        );
        if (api) refuseWeakerApiTransport(stored, api);
      }
      if (row.nasname !== undefined && row.nasname !== found.nasname) {
        await this.refuseTakenName(m, row.nasname, found.id);
      }
      const saved = await m.getRepository(NasRow).save(Object.assign(found, row));
      const settings =
        stored ??
        m.create(NasSettingsEntity, { nasId: saved.id, coaPort: DEFAULT_COA_PORT, ...NO_API });
      if (coaPort !== undefined) settings.coaPort = coaPort;
      if (api) Object.assign(settings, api);
      const savedSettings = await repo.save(settings);
      await this.audit.record(m, {
        target: target(saved),
        before,
        after: snapshot(saved, savedSettings),
      });
      return toNas(saved, savedSettings);
    });
    this.changes.emit();
    return nas;
  }

  /**
   * Removes the NAS. While it has open sessions this is refused with CONFLICT (their rows
   * would belong to no NAS, and nothing could disconnect them), unless `force`.
   */
  async delete(id: string, force: boolean): Promise<boolean> {
    await this.tx.run(async (m) => {
      const found = await this.require(m, id);
      if (!force) {
        const open = await openSessions(m, await this.nas.sessionAddresses(toNas(found, null)));
        if (open > 0) {
          throw new ConflictError(
            `NAS ${found.nasname} has ${open} open session(s): disconnect them first, or delete with force: true`,
            { field: 'id', reason: 'NAS_HAS_SESSIONS' },
          );
        }
      }
      const settings = await m.getRepository(NasSettingsEntity).findOneBy({ nasId: found.id });
      await m.getRepository(NasSettingsEntity).delete({ nasId: found.id });
      await m.getRepository(NasRow).delete({ id: found.id });
      await this.audit.record(m, {
        target: target(found),
        before: snapshot(found, settings),
        after: null,
      });
    });
    this.changes.emit();
    return true;
  }

  /**
   * The NAS, its row locked until the commit on MySQL (SQLite runs one transaction at a time):
   * an update decides from the row and its settings together (whether the API moves to another
   * host: refuseMovedApiPassword), so two updates at once, one renaming the NAS and one changing
   * its routerOs, take turns, and the second sees the first's change. Each reads the settings
   * only once it holds the row.
   */
  private async require(m: EntityManager, id: string): Promise<NasRow> {
    const found = await m.getRepository(NasRow).findOne({
      where: { id: parseId('id', id) },
      lock: rowLock(m, 'pessimistic_write'),
    });
    if (!found) throw new NotFoundError(`No NAS with id ${id}`, { field: 'id' });
    return found;
  }

  /**
   * A transaction that writes a nasname, run again when it lost a lock race (refuseTakenName):
   * the next run waits for the one that won, then sees its name.
   */
  private async write<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.tx.run(work);
      } catch (err) {
        // Deadlocks only: a lock wait that timed out has already waited its 50 s.
        if (attempt >= NAME_RACE_ATTEMPTS || !isDeadlock(err)) throw err;
      }
    }
  }

  /**
   * nasname has no unique index in FreeRADIUS's schema (and one could not be added to a table
   * FreeRADIUS made with duplicates): radgraph keeps it unique, in the form FreeRADIUS compares
   * clients in (canonicalNasName), since FreeRADIUS loads only the first of two rows of one
   * address and skips the other, whatever its secret. The nas table is small: every row is
   * compared, rows written in another form (adopted) included. On MySQL the read locks them all
   * (FOR UPDATE, the table's whole range), so that two transactions writing a nasname at once
   * (a double submit) take turns: the second sees the first's row, or loses a deadlock and
   * `write` runs it again. SQLite runs one transaction at a time.
   */
  private async refuseTakenName(m: EntityManager, nasname: string, self: number | null) {
    const rows = await m.getRepository(NasRow).find({
      select: { id: true, nasname: true },
      lock: rowLock(m, 'pessimistic_write'),
    });
    const taken = rows.find(
      (r) => r.id !== self && (canonicalNasName(r.nasname) ?? r.nasname) === nasname,
    );
    if (taken) {
      const written = taken.nasname === nasname ? '' : ` (written ${taken.nasname})`;
      throw new ConflictError(
        `A NAS named ${nasname} already exists${written}, id ${taken.id}: FreeRADIUS would load only one of them`,
        { field: 'input.name', reason: 'NAS_NAME_TAKEN' },
      );
    }
  }

  /**
   * The API columns from the input; `stored` keeps its password when none is given (update
   * checks first that the host stays: refuseMovedApiPassword).
   */
  private apiSettings(
    input: RouterOsSettingsInput,
    stored: NasSettingsEntity | null,
  ): typeof NO_API {
    const password =
      input.password != null
        ? this.secrets.seal(checkApiPassword('input.routerOs.password', input.password))
        : (stored?.apiPassword ?? null);
    if (password === null) {
      throw new BadUserInputError(
        'input.routerOs.password',
        'input.routerOs.password is required to set up the RouterOS API',
        'ROUTEROS_PASSWORD_REQUIRED',
      );
    }
    return {
      apiHost: input.host != null ? checkHost('input.routerOs.host', input.host) : null,
      apiPort: input.port != null ? checkPort('input.routerOs.port', input.port) : null,
      apiUser: checkApiUser('input.routerOs.user', input.user),
      apiPassword: password,
      apiTls: input.tls ?? false,
      apiTlsVerify: input.tlsVerify ?? true,
    };
  }
}

/** How many times a transaction that writes a nasname runs, at most, when it loses a lock race. */
const NAME_RACE_ATTEMPTS = 5;

const NO_API: Pick<
  NasSettingsEntity,
  'apiHost' | 'apiPort' | 'apiUser' | 'apiPassword' | 'apiTls' | 'apiTlsVerify'
> = {
  apiHost: null,
  apiPort: null,
  apiUser: null,
  apiPassword: null,
  apiTls: false,
  apiTlsVerify: true,
};

/**
 * Open sessions from these NAS addresses (NasService.sessionAddresses; rg_radacct_open_nas:
 * acctstoptime, nasipaddress).
 */
async function openSessions(m: EntityManager, addresses: readonly string[]): Promise<number> {
  if (addresses.length === 0) return 0;
  const rows: Array<{ n: number | string }> = await m.query(
    `SELECT COUNT(*) AS n FROM radacct WHERE acctstoptime IS NULL AND nasipaddress IN (${placeholders(addresses.length)})`,
    [...addresses],
  );
  return Number(rows[0]?.n ?? 0);
}
